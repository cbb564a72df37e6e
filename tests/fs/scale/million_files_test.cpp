// A million files created, stat'ed, read and removed through a mount whose daemon may open 4 096
// descriptors. Minutes in a release build; registered only in builds without a sanitizer.
#include "tree_scale.hpp"

namespace zc::test {
namespace {

TEST(TreeScale, AMillionFilesThroughADaemonLimitedToFourThousandDescriptors) {
  run_tree_at_scale({.directories = 1000, .files_per_directory = 1000}, 4096);
}

}  // namespace
}  // namespace zc::test
