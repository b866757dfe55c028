// Every property of the catalogue, in each of its arithmetics, holds on a fixed
// seed for at least 200 cases (times ICLCERT_TEST_SCALE).
#include "properties/catalog.hpp"

#include <gtest/gtest.h>

#include <cstdio>

namespace iclcert::properties {
namespace {

constexpr std::uint64_t kSeed = 20260411;

void expect_holds(const std::string& id, const std::string& arith, int base_cases = 200) {
  const PropertyInfo& p = find_property(id);
  const FuzzParams params{kSeed, scaled_cases(base_cases), true};
  const FuzzOutcome out = run_property(p, arith, params);
  std::printf("%s (%s): seed %llu, %d held, %d discarded, %.2f s\n", id.c_str(), arith.c_str(),
              static_cast<unsigned long long>(kSeed), out.passed, out.discarded, out.seconds);
  EXPECT_TRUE(out.held) << id << " (" << arith << ") failed with seed " << kSeed << ": " << out.detail;
  EXPECT_FALSE(out.gave_up) << id << ": " << out.detail;
  EXPECT_EQ(out.passed, params.cases);
  if (out.counterexample) std::printf("counterexample: %s\n", case_to_json(*out.counterexample).dump().c_str());
}

TEST(PropertySuites, E1FeatureRational) { expect_holds("E1-feature", "rational"); }
TEST(PropertySuites, E1LabelRational) { expect_holds("E1-label", "rational"); }
TEST(PropertySuites, E1TokenRational) { expect_holds("E1-token", "rational"); }
TEST(PropertySuites, E1ComposedRational) { expect_holds("E1-composed", "rational"); }
TEST(PropertySuites, E1ComposedDouble) { expect_holds("E1-composed", "double"); }
TEST(PropertySuites, E1TokenDouble) { expect_holds("E1-token", "double"); }
TEST(PropertySuites, E2) { expect_holds("E2", "rational"); }
TEST(PropertySuites, E1ComposedInterval) { expect_holds("E1-composed", "interval:128"); }
TEST(PropertySuites, E1FeatureInterval) { expect_holds("E1-feature", "interval:64"); }
TEST(PropertySuites, E2Interval) { expect_holds("E2", "interval:128"); }
TEST(PropertySuites, A1Certified) { expect_holds("A1", "interval:256"); }
TEST(PropertySuites, A1Mpfr) { expect_holds("A1", "mpfr:256"); }
TEST(PropertySuites, Enclosure) { expect_holds("enclosure", "interval:128"); }
TEST(PropertySuites, EnclosureAtLowPrecision) { expect_holds("enclosure", "interval:24"); }
TEST(PropertySuites, MetricsInvariance) { expect_holds("metrics-invariance", "rational"); }
TEST(PropertySuites, TraceRoundTripRational) { expect_holds("trace-roundtrip", "rational"); }
TEST(PropertySuites, TraceRoundTripDouble) { expect_holds("trace-roundtrip", "double"); }
TEST(PropertySuites, E3) { expect_holds("E3", "rational"); }

TEST(PropertySuites, EveryPropertyHasAnIdASentenceAndItsDefaultArithmetic) {
  for (const auto& p : catalogue()) {
    EXPECT_FALSE(p.id.empty());
    EXPECT_GT(p.sentence.size(), 20u) << p.id;
    EXPECT_NO_THROW(require_arith(p, p.default_arith)) << p.id;
  }
  EXPECT_THROW(find_property("no-such-property"), std::invalid_argument);
  EXPECT_THROW(require_arith(find_property("E2"), "double"), std::invalid_argument);
}

}  // namespace
}  // namespace iclcert::properties
