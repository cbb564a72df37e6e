#include "zcopy/core/error.hpp"
