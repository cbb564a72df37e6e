// The one list of zcopy subcommands.
#include <array>

#include "command.hpp"

namespace zc::cli {

CommandRunner add_channel_command(CLI::App& sub);
CommandRunner add_demo_command(CLI::App& sub);
CommandRunner add_doctor_command(CLI::App& sub);
CommandRunner add_frames_command(CLI::App& sub);
CommandRunner add_get_command(CLI::App& sub);
CommandRunner add_inspect_command(CLI::App& sub);
CommandRunner add_mount_command(CLI::App& sub);
CommandRunner add_umount_command(CLI::App& sub);
CommandRunner add_perf_command(CLI::App& sub);
CommandRunner add_serve_command(CLI::App& sub);
CommandRunner add_tls_command(CLI::App& sub);
CommandRunner add_xdp_command(CLI::App& sub);

std::span<const CommandSpec> commands() {
  static constexpr std::array kCommands{
      CommandSpec{"channel", "Publish stdin to a named shared-memory channel, or subscribe to one",
                  &add_channel_command},
      CommandSpec{"demo", "A tour of what zcopy does on this machine, on built-in defaults",
                  &add_demo_command},
      CommandSpec{"doctor", "Probe the kernel facilities and privileges zcopy uses",
                  &add_doctor_command},
      CommandSpec{"frames", "Frames flipped between two processes at a refresh tick, never copied",
                  &add_frames_command},
      CommandSpec{"get", "Download http:// URLs, the body spliced from the socket into the file",
                  &add_get_command},
      CommandSpec{"inspect", "Pin a buffer and show its physical layout and page-fault figures",
                  &add_inspect_command},
      CommandSpec{"mount",
                  "Mirror a directory through FUSE without copying file data (or bench it)",
                  &add_mount_command},
      CommandSpec{"umount", "Unmount a zcopy mount, also one whose daemon died",
                  &add_umount_command},
      CommandSpec{"perf", "Memory-to-socket throughput per send method, with the copy ledger",
                  &add_perf_command},
      CommandSpec{"serve", "Serve a directory over HTTP/1.1 with sendfile, splice or io_uring",
                  &add_serve_command},
      CommandSpec{"tls", "TLS: how a server's records would be opened, and the record cipher bench",
                  &add_tls_command},
      CommandSpec{"xdp", "AF_XDP on an interface queue: count, echo, forward, capture",
                  &add_xdp_command},
  };
  return kCommands;
}

}  // namespace zc::cli
