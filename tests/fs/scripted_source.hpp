// tests/fs/scripted_source.hpp: a small FUSE file system, served by a child process, to mount on
// SRC when a test needs a source that does on cue what no real file system does on demand:
//
//   - an entry that is absent at the first lookup of its name and present at every later one, as
//     if another user planted it between the mirror's LOOKUP and its CREATE;
//   - a FLUSH that fails, as NFS reports a lost write when the file is closed;
//   - a name whose lookup fails with an error of its choosing (and is listed all the same);
//   - an inode number used again: an entry that appears once another is unlinked, with the
//     unlinked one's st_ino, while the old inode answers ESTALE as an NFS server's would;
//   - a count of the owner changes it was asked for.
//
//   MountFixture f;
//   ScriptedSource source(f.src, {scripted_symlink("victim", "/etc/passwd", 1000, true)});
//   ASSERT_TRUE(source.mounted()) << source.error();
//   ASSERT_TRUE(f.mount_in_child(fs::MountMode::splice)) << f.error;   // the mirror on top
//   ...
//   EXPECT_EQ(source.log().chowns.load(), 0);
//
// The file system is flat: a root directory (mode 1777, root's) holding the scripted entries and
// whatever is created in it. Nothing is cached by the kernel, so it asks on every access. Declare
// the ScriptedSource after the MountFixture: it must be unmounted before SRC is removed.
#pragma once

#ifndef FUSE_USE_VERSION
#define FUSE_USE_VERSION 312
#endif
#include <fcntl.h>
#include <fuse_lowlevel.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <new>
#include <string>
#include <utility>
#include <vector>

#include "mount_fixture.hpp"
#include "support/child_process.hpp"

namespace zc::test {

struct ScriptedEntry {
  std::string name;
  mode_t mode = S_IFREG | 0644;
  uid_t uid = 0;
  gid_t gid = 0;
  std::string target{};    // what a symlink points at
  bool planted = false;    // absent at the first lookup of `name`, present at every later one
  int lookup_errno = 0;    // what a lookup of `name` answers instead of the entry (0: the entry)
  ino_t ino = 0;           // its st_ino (0: one of its own)
  std::string replaces{};  // absent until the entry of this name is unlinked
};

// Root's regular file with `permissions`, in `group`.
inline ScriptedEntry scripted_file(std::string name, mode_t permissions, bool planted = false,
                                   gid_t group = 0) {
  return {.name = std::move(name), .mode = S_IFREG | permissions, .gid = group, .planted = planted};
}

// Root's file that is listed but whose lookup fails with `error`.
inline ScriptedEntry scripted_unreachable(std::string name, int error) {
  return {.name = std::move(name), .mode = S_IFREG | 0644, .lookup_errno = error};
}

// Root's file with st_ino `ino`; with `replaced` named, it appears once that one is unlinked.
inline ScriptedEntry scripted_numbered_file(std::string name, ino_t ino,
                                            std::string replaced = "") {
  return {
      .name = std::move(name), .mode = S_IFREG | 0644, .ino = ino, .replaces = std::move(replaced)};
}

// `owner`'s symlink to `target`.
inline ScriptedEntry scripted_symlink(std::string name, std::string target, uid_t owner,
                                      bool planted = false) {
  return {.name = std::move(name),
          .mode = S_IFLNK | 0777,
          .uid = owner,
          .gid = owner,
          .target = std::move(target),
          .planted = planted};
}

// What the file system was asked, counted in memory shared with the test process.
struct ScriptedLog {
  std::atomic<int> chowns{0};   // SETATTR requests that change an owner or a group
  std::atomic<int> flushes{0};  // FLUSH requests
};
static_assert(std::atomic<int>::is_always_lock_free, "the log is shared across processes");

namespace scripted_detail {

// The file system itself; lives in the child. Inode 1 is the root, entry i is inode i + 2.
class Server {
 public:
  Server(std::vector<ScriptedEntry> entries, int flush_errno, ScriptedLog* log)
      : entries_(std::move(entries)), flush_errno_(flush_errno), log_(log) {
    root_.st_ino = FUSE_ROOT_ID;
    root_.st_mode = S_IFDIR | 01777;
    root_.st_nlink = 2;
    for (std::size_t i = 0; i < entries_.size(); ++i) attrs_.push_back(attr_for(i));
    removed_.assign(entries_.size(), false);
  }

  static fuse_lowlevel_ops operations() {
    fuse_lowlevel_ops o{};
    o.lookup = [](fuse_req_t req, fuse_ino_t parent, const char* name) {
      self(req).lookup(req, parent, name);
    };
    o.getattr = [](fuse_req_t req, fuse_ino_t ino, fuse_file_info*) {
      if (self(req).stale(ino)) return (void)fuse_reply_err(req, ESTALE);
      const struct stat* st = self(req).attr(ino);
      if (st == nullptr) return (void)fuse_reply_err(req, ENOENT);
      fuse_reply_attr(req, st, 0);
    };
    o.unlink = [](fuse_req_t req, fuse_ino_t, const char* name) { self(req).unlink(req, name); };
    o.readdir = [](fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, fuse_file_info*) {
      self(req).readdir(req, ino, size, off);
    };
    o.setattr = [](fuse_req_t req, fuse_ino_t ino, struct stat* attr, int to_set, fuse_file_info*) {
      self(req).setattr(req, ino, *attr, to_set);
    };
    o.readlink = [](fuse_req_t req, fuse_ino_t ino) {
      Server& s = self(req);
      if (ino < 2 || ino - 2 >= s.entries_.size()) return (void)fuse_reply_err(req, EINVAL);
      fuse_reply_readlink(req, s.entries_[ino - 2].target.c_str());
    };
    o.mknod = [](fuse_req_t req, fuse_ino_t, const char* name, mode_t mode, dev_t) {
      self(req).make(req, name, mode, "");
    };
    o.mkdir = [](fuse_req_t req, fuse_ino_t, const char* name, mode_t mode) {
      self(req).make(req, name, S_IFDIR | (mode & 07777), "");
    };
    o.symlink = [](fuse_req_t req, const char* link, fuse_ino_t, const char* name) {
      self(req).make(req, name, S_IFLNK | 0777, link);
    };
    o.create = [](fuse_req_t req, fuse_ino_t, const char* name, mode_t mode, fuse_file_info* fi) {
      fi->direct_io = 1;
      self(req).make(req, name, S_IFREG | (mode & 07777), "", fi);
    };
    o.open = [](fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi) {
      if (self(req).stale(ino)) return (void)fuse_reply_err(req, ESTALE);
      fi->direct_io = 1;  // every write reaches the server
      fuse_reply_open(req, fi);
    };
    o.read = [](fuse_req_t req, fuse_ino_t, size_t, off_t, fuse_file_info*) {
      fuse_reply_buf(req, nullptr, 0);
    };
    o.write = [](fuse_req_t req, fuse_ino_t ino, const char*, size_t size, off_t off,
                 fuse_file_info*) {
      if (struct stat* st = self(req).attr(ino)) {
        st->st_size = std::max<off_t>(st->st_size, off + static_cast<off_t>(size));
      }
      fuse_reply_write(req, size);
    };
    o.flush = [](fuse_req_t req, fuse_ino_t, fuse_file_info*) {
      self(req).log_->flushes.fetch_add(1);
      fuse_reply_err(req, self(req).flush_errno_);
    };
    o.release = [](fuse_req_t req, fuse_ino_t, fuse_file_info*) { fuse_reply_err(req, 0); };
    return o;
  }

 private:
  static Server& self(fuse_req_t req) { return *static_cast<Server*>(fuse_req_userdata(req)); }

  struct stat attr_for(std::size_t i) const {
    struct stat st {};
    st.st_ino = entries_[i].ino != 0 ? entries_[i].ino : i + 2;
    st.st_mode = entries_[i].mode;
    st.st_nlink = S_ISDIR(st.st_mode) ? 2 : 1;
    st.st_uid = entries_[i].uid;
    st.st_gid = entries_[i].gid;
    st.st_size = static_cast<off_t>(entries_[i].target.size());
    return st;
  }

  struct stat* attr(fuse_ino_t ino) {
    if (ino == FUSE_ROOT_ID) return &root_;
    if (ino < 2 || ino - 2 >= attrs_.size()) return nullptr;
    return &attrs_[ino - 2];
  }

  fuse_entry_param entry(std::size_t i) const {
    fuse_entry_param e{};
    e.ino = i + 2;
    e.attr = attrs_[i];
    return e;  // timeouts 0: nothing cached
  }

  // Whether entry i is in the directory now.
  bool present(std::size_t i) const {
    if (removed_[i]) return false;
    if (entries_[i].replaces.empty()) return true;
    for (std::size_t j = 0; j < entries_.size(); ++j) {
      if (entries_[j].name == entries_[i].replaces) return removed_[j];
    }
    return true;
  }

  // An unlinked entry's inode: gone on the server.
  bool stale(fuse_ino_t ino) const {
    return ino >= 2 && ino - 2 < removed_.size() && removed_[ino - 2];
  }

  void lookup(fuse_req_t req, fuse_ino_t parent, const char* name) {
    if (parent != FUSE_ROOT_ID) return (void)fuse_reply_err(req, ENOENT);
    for (std::size_t i = 0; i < entries_.size(); ++i) {
      if (entries_[i].name != name || !present(i)) continue;
      if (entries_[i].planted) {  // not there yet; there from now on
        entries_[i].planted = false;
        break;
      }
      if (entries_[i].lookup_errno != 0) return (void)fuse_reply_err(req, entries_[i].lookup_errno);
      const fuse_entry_param e = entry(i);
      return (void)fuse_reply_entry(req, &e);
    }
    fuse_reply_err(req, ENOENT);
  }

  void unlink(fuse_req_t req, const char* name) {
    for (std::size_t i = 0; i < entries_.size(); ++i) {
      if (entries_[i].name == name && present(i) && !entries_[i].planted) {
        removed_[i] = true;
        return (void)fuse_reply_err(req, 0);
      }
    }
    fuse_reply_err(req, ENOENT);
  }

  // The root lists ".", ".." and every entry present; `off` is the index of the next one.
  void readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off) {
    if (ino != FUSE_ROOT_ID) return (void)fuse_reply_err(req, ENOTDIR);
    std::vector<std::pair<std::string, struct stat>> listing{{".", root_}, {"..", root_}};
    for (std::size_t i = 0; i < entries_.size(); ++i) {
      if (present(i) && !entries_[i].planted) listing.emplace_back(entries_[i].name, attrs_[i]);
    }
    std::vector<char> buffer(size);
    std::size_t used = 0;
    for (auto i = static_cast<std::size_t>(off); i < listing.size(); ++i) {
      const std::size_t length =
          fuse_add_direntry(req, buffer.data() + used, size - used, listing[i].first.c_str(),
                            &listing[i].second, static_cast<off_t>(i + 1));
      if (length > size - used) break;
      used += length;
    }
    fuse_reply_buf(req, buffer.data(), used);
  }

  void setattr(fuse_req_t req, fuse_ino_t ino, const struct stat& in, int to_set) {
    struct stat* st = attr(ino);
    if (st == nullptr) return (void)fuse_reply_err(req, ENOENT);
    if ((to_set & (FUSE_SET_ATTR_UID | FUSE_SET_ATTR_GID)) != 0) log_->chowns.fetch_add(1);
    if ((to_set & FUSE_SET_ATTR_UID) != 0) st->st_uid = in.st_uid;
    if ((to_set & FUSE_SET_ATTR_GID) != 0) st->st_gid = in.st_gid;
    if ((to_set & FUSE_SET_ATTR_MODE) != 0) {
      st->st_mode = (st->st_mode & S_IFMT) | (in.st_mode & 07777);
    }
    if ((to_set & FUSE_SET_ATTR_SIZE) != 0) st->st_size = in.st_size;
    fuse_reply_attr(req, st, 0);
  }

  // A new entry owned by whoever the request came from, as a local file system would make it.
  void make(fuse_req_t req, const char* name, mode_t mode, const char* target,
            fuse_file_info* fi = nullptr) {
    for (std::size_t i = 0; i < entries_.size(); ++i) {
      if (entries_[i].name == name && present(i) && !entries_[i].planted) {
        return (void)fuse_reply_err(req, EEXIST);
      }
    }
    const fuse_ctx* ctx = fuse_req_ctx(req);
    entries_.push_back(
        {.name = name, .mode = mode, .uid = ctx->uid, .gid = ctx->gid, .target = target});
    removed_.push_back(false);
    attrs_.push_back(attr_for(entries_.size() - 1));
    const fuse_entry_param e = entry(entries_.size() - 1);
    if (fi != nullptr) return (void)fuse_reply_create(req, &e, fi);
    fuse_reply_entry(req, &e);
  }

  std::vector<ScriptedEntry> entries_;
  std::vector<bool> removed_;  // unlinked
  std::vector<struct stat> attrs_;
  struct stat root_ {};
  const int flush_errno_;
  ScriptedLog* log_;
};

}  // namespace scripted_detail

class ScriptedSource {
 public:
  // Serves `entries` at `path`; every FLUSH answers `flush_errno`.
  ScriptedSource(std::string path, std::vector<ScriptedEntry> entries, int flush_errno = 0)
      : path_(std::move(path)) {
    void* shared = ::mmap(nullptr, sizeof(ScriptedLog), PROT_READ | PROT_WRITE,
                          MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (shared == MAP_FAILED) {
      error_ = "mmap failed";
      return;
    }
    log_ = new (shared) ScriptedLog;
    int ends[2];
    if (::pipe2(ends, O_CLOEXEC) != 0) {
      error_ = "pipe2 failed";
      return;
    }
    server_ = spawn([&] {
      ::close(ends[0]);
      auto report = [&](const std::string& text) {
        [[maybe_unused]] const ssize_t n = ::write(ends[1], text.data(), text.size());
        ::close(ends[1]);
      };
      scripted_detail::Server server(std::move(entries), flush_errno, log_);
      const fuse_lowlevel_ops ops = scripted_detail::Server::operations();
      char program[] = "zcopy-scripted-source";
      char* argv[] = {program, nullptr};
      fuse_args args = FUSE_ARGS_INIT(1, argv);
      fuse_session* session = fuse_session_new(&args, &ops, sizeof ops, &server);
      if (session == nullptr) {
        report("fuse_session_new failed");
        return 1;
      }
      if (fuse_session_mount(session, path_.c_str()) != 0) {
        fuse_session_destroy(session);
        report("fuse_session_mount(" + path_ + ") failed");
        return 1;
      }
      report("ok");
      fuse_session_loop(session);  // until the mount goes away
      fuse_session_destroy(session);
      return 0;
    });
    ::close(ends[1]);
    const std::string status = read_to_end(ends[0]);
    ::close(ends[0]);
    if (status != "ok") error_ = status.empty() ? "the scripted source died" : status;
  }

  ~ScriptedSource() {
    ::umount2(path_.c_str(), MNT_DETACH);
    if (server_ > 0) {
      ::kill(server_, SIGKILL);
      (void)reap(server_);
    }
    if (log_ != nullptr) ::munmap(log_, sizeof(ScriptedLog));
  }

  ScriptedSource(const ScriptedSource&) = delete;
  ScriptedSource& operator=(const ScriptedSource&) = delete;

  bool mounted() const { return error_.empty(); }
  const std::string& error() const { return error_; }
  const ScriptedLog& log() const { return *log_; }

 private:
  std::string path_;
  std::string error_;
  ScriptedLog* log_ = nullptr;
  pid_t server_ = -1;
};

}  // namespace zc::test
