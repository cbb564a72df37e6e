// tests/fs/tree_workload.hpp: a tree of many small files, created, stat'ed, read back and removed
// through a mount, one step at a time, each step counting what it did and keeping the first
// error it met (the steps go on past errors, so a count tells how far the mount got).
//
//   TreeShape shape{.directories = 30, .files_per_directory = 1000};
//   TreeStep created = create_tree(f.mnt + "/tree", shape);
//   EXPECT_EQ(created.first_error, "");
//   EXPECT_EQ(created.done, shape.files());
#pragma once

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstring>
#include <string>

namespace zc::test {

struct TreeShape {
  std::size_t directories = 10;
  std::size_t files_per_directory = 100;
  std::size_t files() const { return directories * files_per_directory; }
};

struct TreeStep {
  std::size_t done = 0;     // files (or directory entries) handled without error
  std::string first_error;  // "<what> <path>: <errno name>", or empty
};

namespace tree_detail {

inline std::string dir_path(const std::string& root, std::size_t d) {
  return root + "/d" + std::to_string(d);
}
inline std::string file_path(const std::string& root, std::size_t d, std::size_t f) {
  return dir_path(root, d) + "/f" + std::to_string(f);
}
// The bytes file (d, f) holds: its own name, so a mix-up shows.
inline std::string contents(std::size_t d, std::size_t f) {
  return "d" + std::to_string(d) + "/f" + std::to_string(f) + "\n";
}
inline void note(TreeStep& step, const char* what, const std::string& path) {
  if (step.first_error.empty()) {
    step.first_error = std::string(what) + " " + path + ": " + ::strerrorname_np(errno);
  }
}

}  // namespace tree_detail

// Creates `root`, its directories and its files, each file holding its own name.
inline TreeStep create_tree(const std::string& root, const TreeShape& shape) {
  using namespace tree_detail;
  TreeStep step;
  if (::mkdir(root.c_str(), 0755) != 0) note(step, "mkdir", root);
  for (std::size_t d = 0; d < shape.directories; ++d) {
    if (::mkdir(dir_path(root, d).c_str(), 0755) != 0) note(step, "mkdir", dir_path(root, d));
    for (std::size_t f = 0; f < shape.files_per_directory; ++f) {
      const std::string path = file_path(root, d, f);
      const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
      if (fd < 0) {
        note(step, "create", path);
        continue;
      }
      const std::string data = contents(d, f);
      const bool wrote = ::write(fd, data.data(), data.size()) == static_cast<ssize_t>(data.size());
      if (!wrote) note(step, "write", path);
      if (::close(fd) != 0) {
        note(step, "close", path);
      } else if (wrote) {
        ++step.done;
      }
    }
  }
  return step;
}

// Stats every file.
inline TreeStep stat_tree(const std::string& root, const TreeShape& shape) {
  using namespace tree_detail;
  TreeStep step;
  for (std::size_t d = 0; d < shape.directories; ++d) {
    for (std::size_t f = 0; f < shape.files_per_directory; ++f) {
      struct stat st {};
      const std::string path = file_path(root, d, f);
      if (::lstat(path.c_str(), &st) != 0) {
        note(step, "stat", path);
      } else if (static_cast<std::size_t>(st.st_size) != contents(d, f).size()) {
        errno = EBADMSG;
        note(step, "size of", path);
      } else {
        ++step.done;
      }
    }
  }
  return step;
}

// Lists every directory (counting entries) and reads every file back.
inline TreeStep read_tree(const std::string& root, const TreeShape& shape) {
  using namespace tree_detail;
  TreeStep step;
  for (std::size_t d = 0; d < shape.directories; ++d) {
    DIR* dir = ::opendir(dir_path(root, d).c_str());
    if (dir == nullptr) {
      note(step, "opendir", dir_path(root, d));
      continue;
    }
    std::size_t entries = 0;
    errno = 0;
    while (struct dirent* e = ::readdir(dir)) {
      if (std::strcmp(e->d_name, ".") != 0 && std::strcmp(e->d_name, "..") != 0) ++entries;
    }
    if (errno != 0) note(step, "readdir", dir_path(root, d));
    ::closedir(dir);
    if (entries != shape.files_per_directory) {
      errno = EBADMSG;
      note(step, ("listed " + std::to_string(entries) + " entries in").c_str(), dir_path(root, d));
    }
    for (std::size_t f = 0; f < shape.files_per_directory; ++f) {
      const std::string path = file_path(root, d, f);
      const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
      if (fd < 0) {
        note(step, "open", path);
        continue;
      }
      char buffer[64];
      const ssize_t n = ::read(fd, buffer, sizeof buffer);
      ::close(fd);
      if (n < 0) {
        note(step, "read", path);
      } else if (std::string(buffer, static_cast<std::size_t>(n)) != contents(d, f)) {
        errno = EBADMSG;
        note(step, "contents of", path);
      } else {
        ++step.done;
      }
    }
  }
  return step;
}

// Removes every file, every directory and `root`.
inline TreeStep remove_tree(const std::string& root, const TreeShape& shape) {
  using namespace tree_detail;
  TreeStep step;
  for (std::size_t d = 0; d < shape.directories; ++d) {
    for (std::size_t f = 0; f < shape.files_per_directory; ++f) {
      const std::string path = file_path(root, d, f);
      if (::unlink(path.c_str()) != 0) {
        note(step, "unlink", path);
      } else {
        ++step.done;
      }
    }
    if (::rmdir(dir_path(root, d).c_str()) != 0) note(step, "rmdir", dir_path(root, d));
  }
  if (::rmdir(root.c_str()) != 0) note(step, "rmdir", root);
  return step;
}

}  // namespace zc::test
