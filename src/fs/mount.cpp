// Mount: mounts the mirror, runs libfuse's multithreaded loop on a thread, and tears it down.
#include "zcopy/fs/mount.hpp"

#include <fcntl.h>
#include <linux/magic.h>
#include <pthread.h>
#include <spawn.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <thread>
#include <vector>

#include "mirror.hpp"
#include "uring_queues.hpp"
#include "worker_privileges.hpp"
#include "zcopy/core/capabilities.hpp"
#include "zcopy/core/method_ladder.hpp"
#include "zcopy/core/syscall.hpp"

extern char** environ;

namespace zc::fs {

struct Mount::State {
  std::unique_ptr<Mirror> mirror;
  fuse_session* session = nullptr;  // owned
  std::string mountpoint;
  bool mounted = false;
  std::uint64_t mount_id = 0;  // of our mount at `mountpoint`, right after mounting (0: unknown)
  std::thread loop;
  std::unique_ptr<UringQueues> uring;  // set when requests travel through io_uring
  std::string transport_reason;        // why not io_uring, when auto fell back
  mutable std::mutex mutex;
  std::condition_variable ended_cv;
  bool ended = false;  // protected by mutex

  ~State() {
    if (session != nullptr) fuse_session_destroy(session);
  }
};

namespace {

// auto takes passthrough when the kernel grants it, else splice.
constexpr MethodLadder<MountMode, 4> kMountModes{
    "mount --mode",
    MountMode::auto_select,
    {{
        {MountMode::auto_select, "auto"},
        {MountMode::passthrough, "passthrough", Capability::fuse_passthrough, true},
        {MountMode::splice, "splice", std::nullopt, true},
        {MountMode::copy, "copy"},
    }}};

constexpr std::chrono::seconds kInitTimeout{10};

// A backing file on a stacked filesystem (overlayfs) needs room for one more layer.
std::uint32_t stack_depth_for(int source_fd) {
  struct statfs st {};
  if (::fstatfs(source_fd, &st) == 0 && st.f_type == OVERLAYFS_SUPER_MAGIC) return 2;
  return 1;
}

// Raises the soft open-file limit to the hard one, as file servers do, and returns how many
// idle inode descriptors the mirror may keep open: half of what the limit allows, the rest left
// for open files, directories and libfuse's pipes.
std::size_t descriptor_budget() {
  struct rlimit limit {};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return 512;
  if (limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    if (::setrlimit(RLIMIT_NOFILE, &limit) != 0) (void)::getrlimit(RLIMIT_NOFILE, &limit);
  }
  constexpr rlim_t kMost = 1 << 16;
  const rlim_t usable = limit.rlim_cur == RLIM_INFINITY ? kMost : limit.rlim_cur;
  return static_cast<std::size_t>(std::clamp<rlim_t>(usable / 2, 8, kMost));
}

// Lines for MountOptions::log when it is empty.
void log_to_stderr(std::string_view line) {
  std::fprintf(stderr, "zcopy mount: %.*s\n", static_cast<int>(line.size()), line.data());
}

// fsname shows SRC in /proc/mounts; libfuse's option parser splits on commas.
std::string mount_options(const std::string& source, const MountOptions& options) {
  std::string escaped;
  for (char c : source) {
    if (c == ',' || c == '\\') escaped += '\\';
    escaped += c;
  }
  std::string text = "fsname=" + escaped + ",subtype=zcopy,default_permissions";
  if (options.allow_other) text += ",allow_other";
  return text;
}

// Opens /dev/fuse and mounts it at `mountpoint` with mount(2), as libfuse would for root; the
// session adopts the descriptor. libfuse's own mount keeps a copy of the path that only its
// unmount frees, and that unmount would close the device a second time.
Result<int> mount_device(const std::string& source, const std::string& mountpoint,
                         const struct stat& root_stat, const MountOptions& options) {
  auto device = Fd::open("/dev/fuse", O_RDWR);
  if (!device) return std::unexpected(device.error());
  char rootmode[16];
  std::snprintf(rootmode, sizeof rootmode, "%o", root_stat.st_mode & S_IFMT);
  const std::string data = "fd=" + std::to_string(device->get()) + ",rootmode=" + rootmode +
                           ",user_id=" + std::to_string(::getuid()) +
                           ",group_id=" + std::to_string(::getgid()) + ",default_permissions" +
                           (options.allow_other ? ",allow_other" : "");
  auto rc = sys_call("mount", [&] {
    return ::mount(source.c_str(), mountpoint.c_str(), "fuse.zcopy", MS_NOSUID | MS_NODEV,
                   data.c_str());
  });
  if (!rc) {
    return fail_errno(rc.error().sys_errno(), "mount(" + mountpoint + ")",
                      rc.error().sys_errno() == ENOENT || rc.error().sys_errno() == ENOTDIR
                          ? "the mount point must be an existing directory"
                          : "");
  }
  return device->release();
}

// The id of the mount `path` is on (what statx reports), 0 when it cannot be had. Cached
// attributes do: the mount's own daemon may be the caller. The unique id where the kernel has it
// (6.8): the plain one is reused at once, so a mount made on MNT right after ours was unmounted
// would carry our id, and we would unmount it.
std::uint64_t mount_id_of(const std::string& path) {
#ifndef STATX_MNT_ID_UNIQUE
  constexpr unsigned STATX_MNT_ID_UNIQUE = 0x00004000U;
#endif
  // Asked for both, a kernel that has the unique id answers with it; an older one ignores the
  // bit it does not know and answers with the plain id.
  struct statx st {};
  if (::statx(AT_FDCWD, path.c_str(), AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT | AT_STATX_DONT_SYNC,
              STATX_MNT_ID | STATX_MNT_ID_UNIQUE, &st) != 0 ||
      (st.stx_mask & (STATX_MNT_ID | STATX_MNT_ID_UNIQUE)) == 0) {
    return 0;
  }
  return st.stx_mnt_id;
}

// True when `mountpoint` lies strictly beneath the directory `source` (stat `root`): walking up
// from it by ".." (across mounts) reaches SRC. The daemon's lookups of that name would then go
// through its own mount, and the mirror would hold itself again at every level.
bool lies_beneath(const std::string& mountpoint, const struct stat& root) {
  auto at = Fd::open(mountpoint, O_PATH | O_DIRECTORY);
  if (!at) return false;
  struct stat here {};
  if (::fstat(at->get(), &here) != 0) return false;
  for (int depth = 0; depth < 4096; ++depth) {
    auto parent = Fd::open_at(at->get(), "..", O_PATH | O_DIRECTORY);
    if (!parent) return false;
    struct stat up {};
    if (::fstat(parent->get(), &up) != 0) return false;
    if (up.st_dev == here.st_dev && up.st_ino == here.st_ino) return false;  // the root
    if (up.st_dev == root.st_dev && up.st_ino == root.st_ino) return true;
    at = std::move(parent);
    here = up;
  }
  return false;
}

// Unmounts our own mount: a clean umount when nothing uses it, otherwise a lazy detach. A mount
// someone put over MNT since is theirs and stays; ours stays under it, dead once the session
// ends, until `zcopy umount` once MNT is uncovered.
void detach(Mount::State& state) {
  if (!state.mounted) return;
  state.mounted = false;
  if (state.mount_id != 0 && mount_id_of(state.mountpoint) != state.mount_id) {
    state.mirror->note(state.mountpoint +
                       " is covered by another mount, which stays: the mirror under it ends "
                       "without being unmounted (zcopy umount clears it once it is uncovered)");
    return;
  }
  if (::umount2(state.mountpoint.c_str(), UMOUNT_NOFOLLOW) == 0) return;
  if (errno == EBUSY) {
    ::umount2(state.mountpoint.c_str(), MNT_DETACH | UMOUNT_NOFOLLOW);
  } else if (errno == EPERM) {
    // An unprivileged mount is undone by the set-uid helper. Not fuse_session_unmount(): it
    // would also close the device under the still-running workers.
    std::string path = state.mountpoint;
    char program[] = "fusermount3";
    char unmount_flag[] = "-u";
    char lazy_flag[] = "-z";
    char* argv[] = {program, unmount_flag, lazy_flag, path.data(), nullptr};
    pid_t pid = -1;
    if (::posix_spawnp(&pid, program, nullptr, nullptr, argv, environ) == 0) {
      int status = 0;
      (void)sys_call("waitpid", [&] { return ::waitpid(pid, &status, 0); });
    }
  }
}

// Moves the connection onto FUSE over io_uring once INIT granted it. Until every queue has an
// entry, requests keep coming through /dev/fuse.
Result<void> start_uring(Mount::State& state) {
  DeviceHooks& device = state.mirror->device();
  if (!device.uring_granted()) {
    return fail(Errc::capability_missing, "mount --transport uring",
                "the kernel did not offer FUSE_OVER_IO_URING in INIT");
  }
  auto queues = UringQueues::start(state.session, device, state.mirror->device_fd(),
                                   device.uring_payload_size());
  if (!queues) return std::unexpected(queues.error());
  state.uring = std::move(*queues);
  return {};
}

}  // namespace

std::string_view to_string(MountMode mode) noexcept {
  return kMountModes.to_string(mode);
}

std::string_view to_string(MountOperation operation) noexcept {
  static constexpr std::array<std::string_view, kMountOperations> kNames{
      "LOOKUP",    "FORGET",      "GETATTR",    "SETATTR",         "READLINK", "STATFS",
      "MKNOD",     "MKDIR",       "SYMLINK",    "UNLINK",          "RMDIR",    "RENAME",
      "LINK",      "OPEN",        "CREATE",     "RELEASE",         "FLUSH",    "FSYNC",
      "READ",      "WRITE",       "FALLOCATE",  "COPY_FILE_RANGE", "LSEEK",    "OPENDIR",
      "READDIR",   "READDIRPLUS", "RELEASEDIR", "FSYNCDIR",        "SETXATTR", "GETXATTR",
      "LISTXATTR", "REMOVEXATTR"};
  const auto index = static_cast<std::size_t>(operation);
  return index < kNames.size() ? kNames[index] : "?";
}

std::optional<MountMode> mount_mode_from_name(std::string_view text) noexcept {
  return kMountModes.from_name(text);
}

Mount::Mount(std::unique_ptr<State> state) : state_(std::move(state)) {}
Mount::Mount(Mount&&) noexcept = default;
Mount& Mount::operator=(Mount&& other) noexcept {
  if (this != &other) {
    (void)stop();
    state_ = std::move(other.state_);
  }
  return *this;
}
Mount::~Mount() {
  (void)stop();
}

Result<Mount> Mount::start(const std::string& source, const std::string& mountpoint,
                           const MountOptions& options) {
  auto root = Fd::open(source, O_PATH | O_DIRECTORY);
  if (!root) return std::unexpected(std::move(root.error()).with_context("mount source"));
  struct stat root_stat {};
  if (auto rc = sys_call({"fstat", root->get()}, [&] { return ::fstat(root->get(), &root_stat); });
      !rc) {
    return std::unexpected(rc.error());
  }

  if (lies_beneath(mountpoint, root_stat)) {
    return fail(Errc::invalid_argument, "mount(" + mountpoint + ")",
                "the mount point lies inside the source: the mirror would contain itself at "
                "every level; choose a mount point outside " +
                    source);
  }

  // Probed afresh: privileges may have changed since a cached answer. auto that has passthrough
  // stays auto until the kernel's INIT confirms it (init() in mirror.cpp).
  auto choice = kMountModes.choose(
      options.mode, [](Capability capability) { return probe_uncached(capability); });
  if (!choice) return std::unexpected(choice.error());
  auto transport = choose_transport(options.transport);
  if (!transport) return std::unexpected(transport.error());
  const std::string early_reason = choice->missing;
  const MountMode requested = early_reason.empty() ? options.mode : choice->method;
  const std::uint32_t depth = stack_depth_for(root->get());

  auto state = std::make_unique<State>();
  state->mountpoint = mountpoint;
  InodeTable::Options table;
  table.descriptor_capacity = descriptor_budget();
  table.log = options.log ? options.log : SourceDevices::Log(log_to_stderr);
  state->mirror = std::make_unique<Mirror>(std::move(*root), root_stat, requested,
                                           options.cache_seconds, depth, std::move(table));
  if (!early_reason.empty()) state->mirror->set_mode(MountMode::splice, early_reason);
  state->transport_reason = transport->why_not_uring;
  if (transport->used == MountTransport::uring) state->mirror->device().want_uring();
  if (auto wake = state->mirror->device().open_wake_fd(); !wake) {
    return std::unexpected(wake.error());
  }

  const std::string option_text = mount_options(source, options);
  std::vector<const char*> argv{"zcopy", "-o", option_text.c_str()};
  if (options.debug) argv.push_back("-d");
  fuse_args args = FUSE_ARGS_INIT(static_cast<int>(argv.size()), const_cast<char**>(argv.data()));
  const fuse_lowlevel_ops& ops = Mirror::operations();
  state->session = fuse_session_new(&args, &ops, sizeof ops, state->mirror.get());
  fuse_opt_free_args(&args);
  if (state->session == nullptr) {
    return fail(Errc::invalid_argument, "fuse_session_new", "libfuse refused the options");
  }
  auto device = mount_device(source, mountpoint, root_stat, options);
  if (!device) {
    if (device.error().sys_errno() != EPERM) return std::unexpected(device.error());
    // Unprivileged: libfuse mounts through the set-uid fusermount3 helper.
    if (fuse_session_mount(state->session, mountpoint.c_str()) != 0) {
      return fail(Errc::system, "fuse_session_mount(" + mountpoint + ")",
                  "mounting failed (libfuse printed why above); mounting needs root or "
                  "fusermount3");
    }
    device = fuse_session_fd(state->session);
  }
  state->mounted = true;
  state->mount_id = mount_id_of(mountpoint);
  if (fuse_session_custom_io(state->session, &DeviceHooks::io(), *device) != 0) {
    detach(*state);
    return fail(Errc::system, "fuse_session_custom_io", "libfuse refused the /dev/fuse hooks");
  }
  state->mirror->set_device_fd(*device);

  State* raw = state.get();
  const unsigned threads = options.max_threads == 0 ? 1 : options.max_threads;
  state->loop = std::thread([raw, threads] {
    // Both are inherited by every worker this thread starts: the name lets tools (and the tests)
    // tell the mirror's workers from other threads of the process.
    ::pthread_setname_np(::pthread_self(), kWorkerThreadName);
    keep_only_worker_capabilities();
    fuse_loop_config* config = fuse_loop_cfg_create();
    fuse_loop_cfg_set_clone_fd(config, 0);
    // No idle-thread limit: libfuse 3.14 then never ends workers, which is both faster and
    // avoids its worker-exit path.
    fuse_loop_cfg_set_max_threads(config, threads);
    fuse_session_loop_mt(raw->session, config);
    fuse_loop_cfg_destroy(config);
    {
      const std::lock_guard lock(raw->mutex);
      raw->ended = true;
    }
    raw->ended_cv.notify_all();
  });

  Mount mount(std::move(state));
  if (!mount.state_->mirror->device().wait_for_init(kInitTimeout)) {
    (void)mount.stop();
    return fail(Errc::timeout, "mount(" + mountpoint + ")", "the kernel sent no FUSE INIT");
  }
  if (options.mode == MountMode::passthrough &&
      !mount.state_->mirror->device().kernel_offers_passthrough()) {
    (void)mount.stop();
    return fail(Errc::capability_missing, "mount --mode passthrough",
                "FUSE passthrough unavailable: the kernel did not offer FUSE_PASSTHROUGH in INIT");
  }
  if (transport->used == MountTransport::uring) {
    if (auto started = start_uring(*mount.state_); !started) {
      if (options.transport == MountTransport::uring) {
        (void)mount.stop();
        return std::unexpected(started.error());
      }
      mount.state_->transport_reason = started.error().message();
    }
  }
  return mount;
}

MountMode Mount::active_mode() const noexcept {
  return state_ ? state_->mirror->mode() : MountMode::auto_select;
}

std::string Mount::fallback_reason() const {
  return state_ ? state_->mirror->fallback_reason() : std::string();
}

MountTransport Mount::transport() const noexcept {
  return state_ && state_->uring ? MountTransport::uring : MountTransport::dev;
}

std::string Mount::transport_reason() const {
  return state_ ? state_->transport_reason : std::string();
}

bool Mount::running() const noexcept {
  if (!state_) return false;
  const std::lock_guard lock(state_->mutex);
  return !state_->ended;
}

MountStats Mount::stats() const noexcept {
  if (!state_) return MountStats{};
  MountStats stats = state_->mirror->stats();
  if (state_->uring) stats.uring_requests = state_->uring->requests();
  return stats;
}

bool Mount::wait(std::chrono::milliseconds timeout) const {
  if (!state_) return true;
  std::unique_lock lock(state_->mutex);
  return state_->ended_cv.wait_for(lock, timeout, [&] { return state_->ended; });
}

Result<void> Mount::stop() {
  if (!state_) return {};
  detach(*state_);
  if (state_->session != nullptr) fuse_session_exit(state_->session);
  state_->mirror->device().wake_all();
  if (state_->uring) state_->uring->stop();
  if (state_->loop.joinable()) state_->loop.join();
  state_.reset();  // fuse_session_destroy closes /dev/fuse: a detached mount's files get ENOTCONN
  return {};
}

}  // namespace zc::fs
