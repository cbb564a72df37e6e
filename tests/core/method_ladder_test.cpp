#include "zcopy/core/method_ladder.hpp"

#include <gtest/gtest.h>

#include <set>

namespace zc {
namespace {

enum class Way { automatic, fast, middle, plain };

constexpr MethodLadder<Way, 4> kWays{"--way",
                                     Way::automatic,
                                     {{
                                         {Way::automatic, "auto"},
                                         {Way::fast, "fast", Capability::sendfile, true},
                                         {Way::middle, "middle", Capability::splice, true},
                                         {Way::plain, "plain", std::nullopt, true},
                                     }}};

// Answers as if only the capabilities in `present` existed.
struct Pretend {
  std::set<Capability> present;
  Probe operator()(Capability c) const {
    const bool there = present.contains(c);
    return {c, there, there ? "here" : "not on this kernel"};
  }
};

TEST(MethodLadder, NamesAndParsesEveryMethodOneWay) {
  for (const Way w : {Way::automatic, Way::fast, Way::middle, Way::plain}) {
    EXPECT_EQ(kWays.from_name(kWays.to_string(w)), w);
  }
  EXPECT_EQ(kWays.to_string(Way::middle), "middle");
  EXPECT_FALSE(kWays.from_name("Fast"));
  EXPECT_FALSE(kWays.from_name(""));
  EXPECT_EQ(kWays.names(), "auto, fast, middle or plain");
}

TEST(MethodLadder, AutoTakesTheFirstAvailableRungWithoutANote) {
  auto choice = kWays.choose(Way::automatic, Pretend{{Capability::sendfile, Capability::splice}});
  ASSERT_TRUE(choice) << choice.error().message();
  EXPECT_EQ(choice->method, Way::fast);
  EXPECT_EQ(choice->note, "");
  EXPECT_EQ(choice->missing, "");
}

TEST(MethodLadder, AutoThatFellBackSaysWhyInOneLine) {
  auto choice = kWays.choose(Way::automatic, Pretend{{Capability::splice}});
  ASSERT_TRUE(choice);
  EXPECT_EQ(choice->method, Way::middle);
  EXPECT_EQ(choice->note, "auto: sendfile unavailable: not on this kernel; using middle");
  EXPECT_EQ(choice->missing, "sendfile unavailable: not on this kernel");

  auto last = kWays.choose(Way::automatic, Pretend{});
  ASSERT_TRUE(last);
  EXPECT_EQ(last->method, Way::plain);
  EXPECT_EQ(last->note,
            "auto: sendfile unavailable: not on this kernel; splice unavailable: not on this "
            "kernel; using plain");
}

TEST(MethodLadder, AnExplicitMethodThatIsMissingNamesWhatIsMissing) {
  auto choice = kWays.choose(Way::middle, Pretend{{Capability::sendfile}});
  ASSERT_FALSE(choice);
  EXPECT_EQ(choice.error().code(), Errc::capability_missing);
  EXPECT_EQ(choice.error().operation(), "--way middle");
  EXPECT_EQ(choice.error().detail(), "splice unavailable: not on this kernel");
}

TEST(MethodLadder, AnExplicitMethodThatIsThereIsTakenAsIs) {
  auto choice = kWays.choose(Way::plain, Pretend{});
  ASSERT_TRUE(choice);
  EXPECT_EQ(choice->method, Way::plain);
  EXPECT_EQ(choice->note, "");
  // A rung `auto` would not take is still there when asked for by name.
  EXPECT_TRUE(kWays.choose(Way::fast, Pretend{{Capability::sendfile}}));
}

TEST(MethodLadder, AutoWithNothingToTakeFails) {
  constexpr MethodLadder<Way, 2> kOnly{"--way",
                                       Way::automatic,
                                       {{
                                           {Way::automatic, "auto"},
                                           {Way::fast, "fast", Capability::sendfile, true},
                                       }}};
  auto choice = kOnly.choose(Way::automatic, Pretend{});
  ASSERT_FALSE(choice);
  EXPECT_EQ(choice.error().code(), Errc::capability_missing);
}

}  // namespace
}  // namespace zc
