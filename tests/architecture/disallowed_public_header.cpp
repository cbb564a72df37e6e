#include "zcopy/channel/publisher.hpp"
