// src/http/client/download_body.hpp: moves one response body from a socket into a file at an
// offset.
//
// A body of known or open-ended length moves by the net::SocketToFile mover (splice, uring or
// copy): with splice and uring it never enters user memory, and the pipe is its only buffer. A
// chunked body is decoded in user space (recv, decode, pwrite), whatever the method. Progress is
// judged by the stall rule (stall_watch.hpp), and a range's bytes are reported to its
// PartProgress, which saves the record as they arrive.
//
// An https body comes from its TlsStream instead: records are read ahead, many per system call,
// each opened in place where it arrived (or read through SSL_read on TLS 1.2), and those already
// received are written from there together with one pwritev. The reader wakes once a read's
// worth has arrived (net::WakeMark), and the body's blocks are allocated before it lands. A
// server that closes without close_notify before the body is complete has truncated it: an error.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "zcopy/core/error.hpp"
#include "zcopy/core/transfer_ledger.hpp"
#include "zcopy/net/socket_to_file.hpp"

namespace zc::http {
class TlsStream;
}

namespace zc::http::detail {

class FileHasher;
class PartProgress;

struct BodyTransfer {
  int socket = -1;
  TlsStream* tls = nullptr;  // https: the body comes from here, not from `socket`
  int file = -1;
  std::uint64_t offset = 0;             // where the body's first byte goes in the file
  std::optional<std::uint64_t> length;  // exact size; empty: until the server closes
  bool chunked = false;
  net::ReceiveMethod method = net::ReceiveMethod::splice;  // as net::choose() gave it
  std::chrono::milliseconds timeout{30000};                // the stall window
  const std::atomic<bool>* stop = nullptr;         // set to end the transfer early ("interrupted")
  std::atomic<std::uint64_t>* progress = nullptr;  // bytes written so far, for a progress bar
  PartProgress* part = nullptr;                    // told of every byte written, by range
  std::size_t range = 0;                           // this body's range in `part`
  std::string file_name;                           // for error messages
  TransferLedger* ledger = nullptr;                // the bytes moved and copied are added here
  FileHasher* hasher = nullptr;  // follows the writes when the file must match a digest
};

// Returns the body bytes written. A body that ends before `length` is an error (Errc::closed)
// saying how much arrived; a full disk is the write's ENOSPC naming the file.
Result<std::uint64_t> receive_body(const BodyTransfer& transfer);

}  // namespace zc::http::detail
