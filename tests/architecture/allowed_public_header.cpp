#include "zcopy/net/tcp.hpp"
