// The numbered heading every section of `zcopy demo` opens with.
#include <cstdio>

#include "examples/demo/sections.hpp"

namespace zc::demo {

void demo_heading(int number, const char* title, const char* why) {
  std::printf("\n%d. %s\n   %s\n\n", number, title, why);
  std::fflush(stdout);
}

}  // namespace zc::demo
