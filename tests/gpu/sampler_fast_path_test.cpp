// The sampler's fast path (numerics/sampler.hpp, sample_prompt_doubles) draws the
// very prompts of sample_prompt: same doubles, same classes, same probe.
#include "numerics/sampler.hpp"

#include <gtest/gtest.h>

#include <cstdio>

namespace iclcert {
namespace {

void expect_same(const SamplerOptions& o) {
  const Prompt exact = sample_prompt(o);
  const Prompt fast = to_prompt(sample_prompt_doubles(o));
  ASSERT_EQ(fast.d, exact.d);
  ASSERT_EQ(fast.C, exact.C);
  ASSERT_EQ(fast.N, exact.N);
  EXPECT_TRUE(fast.X == exact.X) << "seed " << o.seed;
  EXPECT_EQ(fast.labels, exact.labels) << "seed " << o.seed;
  EXPECT_EQ(fast.probe, exact.probe) << "seed " << o.seed;
  EXPECT_EQ(fast.probe_label, exact.probe_label) << "seed " << o.seed;
}

TEST(SamplerFastPath, DrawsTheSamePromptsAsTheExactSampler) {
  struct Shape {
    int d, C, N;
  };
  int count = 0;
  for (Shape s : {Shape{1, 2, 5}, Shape{2, 3, 8}, Shape{4, 3, 24}, Shape{16, 4, 64}, Shape{3, 7, 9}}) {
    for (std::uint64_t seed = 1; seed <= 40; ++seed) {
      SamplerOptions o;
      o.d = s.d;
      o.C = s.C;
      o.N = s.N;
      o.seed = seed * 7919;
      expect_same(o);
      ++count;
    }
  }
  std::printf("%d prompts compared (seeds k * 7919, k = 1..40)\n", count);
}

// Ties and near-ties in the class scores: with d = 1 the score w_c x has ties
// only when two w_c are equal, but tiny |x| makes the double scores' error bounds
// overlap, which sends the point to the exact classification.
TEST(SamplerFastPath, RejectionAndBalancingFallBackToTheExactSampler) {
  SamplerOptions o;
  o.d = 3;
  o.C = 3;
  o.N = 9;
  o.balanced = true;
  expect_same(o);
  o.balanced = false;
  o.margin = Rational(1, 10);
  expect_same(o);
  o.probe_label = false;
  o.margin = 0;
  expect_same(o);
}

TEST(SamplerFastPath, InvalidSizesThrowAsTheExactSamplerDoes) {
  SamplerOptions o;
  o.C = 1;
  EXPECT_THROW(sample_prompt_doubles(o), std::invalid_argument);
}

}  // namespace
}  // namespace iclcert
