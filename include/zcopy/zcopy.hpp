// zcopy/zcopy.hpp: the umbrella header. Includes every public zcopy header.
//
//   #include <zcopy/zcopy.hpp>
//   auto region = zc::Region::create_shared(64 * zc::kMiB);
#pragma once

#include "zcopy/core/capabilities.hpp"
#include "zcopy/core/error.hpp"
#include "zcopy/core/fd.hpp"
#include "zcopy/core/fd_passing.hpp"
#include "zcopy/core/json_record.hpp"
#include "zcopy/core/process_privileges.hpp"
#include "zcopy/core/syscall.hpp"
#include "zcopy/core/units.hpp"
#include "zcopy/mem/buffer_pool.hpp"
#include "zcopy/mem/fault_profile.hpp"
#include "zcopy/mem/physical_layout.hpp"
#include "zcopy/mem/region.hpp"
#include "zcopy/ring/spsc_ring.hpp"
#include "zcopy/version.hpp"
