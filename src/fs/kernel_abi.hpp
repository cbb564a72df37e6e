// src/fs/kernel_abi.hpp: the parts of the FUSE kernel protocol that passthrough needs.
//
// Debian 12's <linux/fuse.h> (protocol 7.38) predates FUSE passthrough (7.40, Linux 6.9), and
// libfuse 3.14 hides its own copy, so the structures are written out here from the kernel's
// include/uapi/linux/fuse.h. The static_asserts pin every offset we read or write: a mistake
// would silently corrupt the INIT or OPEN replies the kernel parses.
#pragma once

#include <sys/ioctl.h>

#include <cstddef>
#include <cstdint>

namespace zc::fs::abi {

inline constexpr std::uint32_t kOpInit = 26;  // FUSE_INIT

// fuse_init_in.flags / fuse_init_out.flags, and the upper half carried in flags2.
inline constexpr std::uint64_t kInitWritebackCache = 1ULL << 16;  // FUSE_WRITEBACK_CACHE
// FUSE_HANDLE_KILLPRIV_V2 (7.33): the daemon clears set-uid/set-gid and security.capability on
// write, truncate and chown itself, so the kernel stops asking for security.capability before
// every write.
inline constexpr std::uint64_t kInitHandleKillprivV2 = 1ULL << 28;
inline constexpr std::uint64_t kInitExt = 1ULL << 30;          // FUSE_INIT_EXT: flags2 valid
inline constexpr std::uint64_t kInitPassthrough = 1ULL << 37;  // FUSE_PASSTHROUGH (7.40)

inline constexpr std::uint32_t kOpenPassthrough = 1U << 7;  // FOPEN_PASSTHROUGH

// The deepest stack the kernel allows (FILESYSTEM_MAX_STACK_DEPTH).
inline constexpr std::uint32_t kMaxStackDepth = 2;

struct InHeader {  // struct fuse_in_header
  std::uint32_t len;
  std::uint32_t opcode;
  std::uint64_t unique;
  std::uint64_t nodeid;
  std::uint32_t uid;
  std::uint32_t gid;
  std::uint32_t pid;
  std::uint16_t total_extlen;
  std::uint16_t padding;
};
static_assert(sizeof(InHeader) == 40);
static_assert(offsetof(InHeader, opcode) == 4);
static_assert(offsetof(InHeader, unique) == 8);

struct OutHeader {  // struct fuse_out_header
  std::uint32_t len;
  std::int32_t error;
  std::uint64_t unique;
};
static_assert(sizeof(OutHeader) == 16);
static_assert(offsetof(OutHeader, unique) == 8);

struct InitIn {  // struct fuse_init_in
  std::uint32_t major;
  std::uint32_t minor;
  std::uint32_t max_readahead;
  std::uint32_t flags;
  std::uint32_t flags2;
  std::uint32_t unused[11];
};
static_assert(sizeof(InitIn) == 64);
static_assert(offsetof(InitIn, flags) == 12);
static_assert(offsetof(InitIn, flags2) == 16);

struct InitOut {  // struct fuse_init_out (7.40)
  std::uint32_t major;
  std::uint32_t minor;
  std::uint32_t max_readahead;
  std::uint32_t flags;
  std::uint16_t max_background;
  std::uint16_t congestion_threshold;
  std::uint32_t max_write;
  std::uint32_t time_gran;
  std::uint16_t max_pages;
  std::uint16_t map_alignment;
  std::uint32_t flags2;
  std::uint32_t max_stack_depth;
  std::uint16_t request_timeout;
  std::uint16_t unused[11];
};
static_assert(sizeof(InitOut) == 64);
static_assert(offsetof(InitOut, flags) == 12);
static_assert(offsetof(InitOut, flags2) == 32);
static_assert(offsetof(InitOut, max_stack_depth) == 36);

struct OpenOut {  // struct fuse_open_out (7.40: padding became backing_id)
  std::uint64_t fh;
  std::uint32_t open_flags;
  std::int32_t backing_id;
};
static_assert(sizeof(OpenOut) == 16);
static_assert(offsetof(OpenOut, open_flags) == 8);
static_assert(offsetof(OpenOut, backing_id) == 12);

struct BackingMap {  // struct fuse_backing_map
  std::int32_t fd;
  std::uint32_t flags;
  std::uint64_t padding;
};
static_assert(sizeof(BackingMap) == 16);

inline constexpr unsigned kDevIocMagic = 229;  // FUSE_DEV_IOC_MAGIC
inline constexpr unsigned long kDevIocBackingOpen = _IOW(kDevIocMagic, 1, BackingMap);
inline constexpr unsigned long kDevIocBackingClose = _IOW(kDevIocMagic, 2, std::uint32_t);
static_assert(kDevIocBackingOpen == 0x4010e501UL);
static_assert(kDevIocBackingClose == 0x4004e502UL);

}  // namespace zc::fs::abi
