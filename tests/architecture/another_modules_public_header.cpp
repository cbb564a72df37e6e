#include "zcopy/fs/mount.hpp"
