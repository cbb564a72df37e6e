// Thirty thousand files through a mount whose daemon may open 4 096 descriptors: every step
// works, and the daemon's memory per inode is reported. The million-file version runs in
// release builds only (tests/fs/scale/).
#include "tree_scale.hpp"

namespace zc::test {
namespace {

TEST(TreeScale, ThirtyThousandFilesThroughADaemonLimitedToFourThousandDescriptors) {
  run_tree_at_scale({.directories = 30, .files_per_directory = 1000}, 4096);
}

}  // namespace
}  // namespace zc::test
