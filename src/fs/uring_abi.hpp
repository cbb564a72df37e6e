// src/fs/uring_abi.hpp: the kernel's side of FUSE over io_uring.
//
// Linux 6.14 added it (protocol 7.42, include/uapi/linux/fuse.h: FUSE_OVER_IO_URING,
// struct fuse_uring_req_header, fuse_uring_ent_in_out, fuse_uring_cmd_req and enum
// fuse_uring_cmd); Debian 12's <linux/fuse.h> (7.38) predates it, so what the mirror needs is
// written out here. The exchange, per ring entry: an IORING_OP_URING_CMD on the /dev/fuse
// descriptor (a ring set up with 128-byte SQEs, whose second half carries CmdReq) registers a
// header buffer and a payload buffer (sqe->addr points at two iovecs); its completion means a
// request sits in them: the fuse_in_header in in_out, the opcode's fixed argument (in_args[0],
// possibly empty) in op_in, everything else in the payload, payload_sz long. The reply goes back
// the same way (fuse_out_header in in_out, every out argument in the payload) with
// COMMIT_AND_FETCH, whose completion is the entry's next request.
#pragma once

#include <cstddef>
#include <cstdint>

#include "kernel_abi.hpp"

namespace zc::fs::abi {

inline constexpr std::uint64_t kInitOverIoUring = 1ULL << 41;  // FUSE_OVER_IO_URING

inline constexpr std::size_t kUringInOutHeaderSize = 128;  // FUSE_URING_IN_OUT_HEADER_SZ
inline constexpr std::size_t kUringOpInOutSize = 128;      // FUSE_URING_OP_IN_OUT_SZ

inline constexpr std::uint32_t kUringCmdRegister = 1;        // FUSE_IO_URING_CMD_REGISTER
inline constexpr std::uint32_t kUringCmdCommitAndFetch = 2;  // ..._COMMIT_AND_FETCH

// The smallest payload the kernel accepts is max(FUSE_MIN_READ_BUFFER, max_write,
// max_pages * page size).
inline constexpr std::size_t kMinReadBuffer = 8192;  // FUSE_MIN_READ_BUFFER

struct UringEntInOut {  // struct fuse_uring_ent_in_out
  std::uint64_t flags;
  std::uint64_t commit_id;  // the request's unique id, to be named by the commit
  std::uint32_t payload_sz;
  std::uint32_t padding;
  std::uint64_t reserved;
};
static_assert(sizeof(UringEntInOut) == 32);
static_assert(offsetof(UringEntInOut, commit_id) == 8);
static_assert(offsetof(UringEntInOut, payload_sz) == 16);

struct UringReqHeader {                         // struct fuse_uring_req_header
  unsigned char in_out[kUringInOutHeaderSize];  // fuse_in_header, then fuse_out_header
  unsigned char op_in[kUringOpInOutSize];       // the opcode's fixed argument
  UringEntInOut ring_ent_in_out;
};
static_assert(sizeof(UringReqHeader) == 288);
static_assert(offsetof(UringReqHeader, op_in) == 128);
static_assert(offsetof(UringReqHeader, ring_ent_in_out) == 256);

struct UringCmdReq {  // struct fuse_uring_cmd_req, in the SQE's 80-byte command area
  std::uint64_t flags;
  std::uint64_t commit_id;
  std::uint16_t qid;
  std::uint8_t padding[6];
};
static_assert(sizeof(UringCmdReq) == 24);
static_assert(offsetof(UringCmdReq, qid) == 16);

static_assert(sizeof(InHeader) <= kUringInOutHeaderSize);

}  // namespace zc::fs::abi
