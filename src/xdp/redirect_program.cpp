// RedirectProgram: an XSKMAP, a five-instruction XDP program that redirects into it, and the BPF
// link that keeps it attached.
#include "zcopy/xdp/redirect_program.hpp"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>
#include <linux/if_link.h>
#include <net/if.h>

#include <array>
#include <cstddef>
#include <cstring>

#include "zcopy/core/net_device.hpp"

namespace zc::xdp {
namespace {

constexpr bpf_insn instruction(std::uint8_t code, std::uint8_t dst, std::uint8_t src,
                               std::int16_t offset, std::int32_t immediate) {
  bpf_insn insn{};
  insn.code = code;
  insn.dst_reg = dst & 0xf;
  insn.src_reg = src & 0xf;
  insn.off = offset;
  insn.imm = immediate;
  return insn;
}

// return bpf_redirect_map(&xsks, ctx->rx_queue_index, XDP_PASS);
// The flags argument's low bits are the action when the map has no socket for the queue, so
// packets of queues nobody serves go on to the stack.
std::array<bpf_insn, 6> redirect_instructions(int map_fd) {
  return {
      instruction(BPF_LDX | BPF_MEM | BPF_W, BPF_REG_2, BPF_REG_1, offsetof(xdp_md, rx_queue_index),
                  0),
      instruction(BPF_LD | BPF_IMM | BPF_DW, BPF_REG_1, BPF_PSEUDO_MAP_FD, 0, map_fd),
      instruction(0, 0, 0, 0, 0),  // the upper half of the 64-bit immediate
      instruction(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_3, 0, 0, XDP_PASS),
      instruction(BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_redirect_map),
      instruction(BPF_JMP | BPF_EXIT, 0, 0, 0, 0),
  };
}

std::string errno_words(int err) {
  std::string text = std::strerror(err);
  if (const char* name = strerrorname_np(err)) text += std::string(" [") + name + "]";
  return text;
}

std::string driver_of(std::string_view interface) {
  auto device = net_device(interface);
  if (!device || device->driver.empty()) return "its driver";
  return "the " + device->driver + " driver";
}

}  // namespace

Result<RedirectProgram> RedirectProgram::attach(std::string_view interface, ModeChoice choice) {
  const std::string name(interface);
  const std::string op = "attach XDP program to " + name;
  RedirectProgram p;
  p.interface_ = name;
  p.ifindex_ = static_cast<int>(::if_nametoindex(name.c_str()));
  if (p.ifindex_ == 0) {
    return fail(Errc::invalid_argument, op, "no interface " + name + " in this network namespace");
  }

  const int map = bpf_map_create(BPF_MAP_TYPE_XSKMAP, "zcopy_xsks", sizeof(std::uint32_t),
                                 sizeof(std::uint32_t), kMaxQueues, nullptr);
  if (map < 0) {
    return fail_errno(-map, "bpf_map_create(XSKMAP)",
                      -map == EPERM ? "loading BPF needs CAP_BPF or CAP_SYS_ADMIN" : "");
  }
  p.map_ = Fd::adopt(map);

  const auto program = redirect_instructions(p.map_.get());
  std::array<char, 4096> log{};
  // Spelled out rather than LIBBPF_OPTS, a GNU statement expression that clang refuses in C++.
  bpf_prog_load_opts load_options{};
  load_options.sz = sizeof load_options;
  load_options.log_buf = log.data();
  load_options.log_size = static_cast<std::uint32_t>(log.size());
  load_options.log_level = 0;  // the log only if loading fails
  const int loaded = bpf_prog_load(BPF_PROG_TYPE_XDP, "zcopy_redirect", "GPL", program.data(),
                                   program.size(), &load_options);
  if (loaded < 0) {
    std::string detail = log.data();
    if (const auto end = detail.find('\n'); end != std::string::npos) detail.resize(end);
    return fail_errno(-loaded, "bpf_prog_load(XDP redirect)", detail);
  }
  p.program_ = Fd::adopt(loaded);
  bpf_prog_info info{};
  std::uint32_t info_size = sizeof info;
  if (bpf_obj_get_info_by_fd(p.program_.get(), &info, &info_size) == 0) p.program_id_ = info.id;

  const auto link_in = [&](std::uint32_t flags) {
    bpf_link_create_opts link_options{};
    link_options.sz = sizeof link_options;
    link_options.flags = flags;
    return bpf_link_create(p.program_.get(), p.ifindex_, BPF_XDP, &link_options);
  };
  const auto occupied = [&](int err) -> std::unexpected<Error> {
    std::uint32_t id = 0;
    bpf_xdp_query_id(p.ifindex_, 0, &id);
    return fail(Errc::rejected, op,
                name + " already has XDP program " + std::to_string(id) + " attached (" +
                    errno_words(err) + "): detach it (ip link set dev " + name +
                    " xdp off) or end its owner");
  };

  if (choice != ModeChoice::skb_copy) {
    const int link = link_in(XDP_FLAGS_DRV_MODE);
    if (link >= 0) {
      p.link_ = Fd::adopt(link);
      p.native_ = true;
      return p;
    }
    if (-link == EBUSY || -link == EEXIST) return occupied(-link);
    p.native_refusal_ =
        "driver mode refused: bpf_link_create(XDP_FLAGS_DRV_MODE) " + errno_words(-link);
    if (-link == EOPNOTSUPP) p.native_refusal_ += ": " + driver_of(name) + " has no native XDP";
    if (choice != ModeChoice::automatic) {
      return fail(Errc::capability_missing, op, p.native_refusal_);
    }
  } else {
    p.native_refusal_ = "skb mode asked for";
  }
  const int link = link_in(XDP_FLAGS_SKB_MODE);
  if (link < 0) {
    if (-link == EBUSY || -link == EEXIST) return occupied(-link);
    return fail_errno(-link, op + " in skb mode", p.native_refusal_);
  }
  p.link_ = Fd::adopt(link);
  return p;
}

std::string RedirectProgram::describe() const {
  std::string text = "XDP program " + std::to_string(program_id_) + " on " + interface_;
  if (native_) return text + " in driver mode";
  return text + " in skb mode (" + native_refusal_ + ")";
}

Result<void> RedirectProgram::route(std::uint32_t queue, int socket_fd) {
  if (queue >= kMaxQueues) {
    return fail(Errc::invalid_argument, "route queue " + std::to_string(queue),
                "queues above " + std::to_string(kMaxQueues - 1) + " are not served");
  }
  const int rc = bpf_map_update_elem(map_.get(), &queue, &socket_fd, BPF_ANY);
  if (rc != 0)
    return fail_errno(-rc, "bpf_map_update_elem(XSKMAP, queue " + std::to_string(queue) + ")");
  return {};
}

Result<void> RedirectProgram::unroute(std::uint32_t queue) {
  const int rc = bpf_map_delete_elem(map_.get(), &queue);
  if (rc != 0 && -rc != ENOENT) {
    return fail_errno(-rc, "bpf_map_delete_elem(XSKMAP, queue " + std::to_string(queue) + ")");
  }
  return {};
}

}  // namespace zc::xdp
