// The prompt distribution of spec section 1, seeded and reproducible everywhere.
//
// Bits come from xoshiro256** (seeded through splitmix64); normals from
// Marsaglia's polar method with log and sqrt taken from MPFR at 53 bits, which
// rounds correctly, so every platform draws the same doubles (std::normal_distribution
// and libm's log differ between standard libraries). Classes are decided exactly.
#pragma once

#include "numerics/prompt.hpp"

#include <cstdint>

namespace iclcert {

struct SamplerOptions {
  int d = 4, C = 3, N = 24;
  std::uint64_t seed = 1;
  bool balanced = false;  // exactly N / C points per class (needs C | N)
  Rational margin = 0;    // reject points whose top score beats the runner-up by < margin
  bool probe_label = true;
};

class Xoshiro256 {
 public:
  explicit Xoshiro256(std::uint64_t seed);
  std::uint64_t next();
  double uniform();   // in [0, 1), a multiple of 2^-53
  double normal();    // standard normal, deterministic across platforms
 private:
  std::uint64_t s_[4];
  bool has_spare_ = false;
  double spare_ = 0;
};

// Throws std::invalid_argument for impossible requests (sizes, C not dividing N
// with --balanced, a margin so large that no point is accepted).
Prompt sample_prompt(const SamplerOptions& options);

// argmax_c <w_c, x> with ties to the smallest index, decided exactly, and the gap
// between the top score and the runner-up.
struct Classification {
  int label;
  Rational gap;
};
Classification classify(const Matrix<Rational>& W, const std::vector<Rational>& x);

// The fast path of the batch path (gpu/): the very prompt sample_prompt draws, as
// doubles. The normals are the same doubles (the log is rounded correctly through
// long double, with a rounding test that falls back to MPFR when it cannot decide;
// the division and square root are IEEE, hence correctly rounded as in MPFR), and
// the classes are the same (double scores with a rounding-error bound; the exact
// classify() when the bound cannot decide, and always when the margin is not 0).
// Tested equal to sample_prompt (tests/gpu).
struct DoublePrompt {
  int d = 0, C = 0, N = 0;
  std::vector<double> X;  // N x d, row-major
  std::vector<int> labels;
  std::vector<double> probe;
  std::optional<int> probe_label;
};
DoublePrompt sample_prompt_doubles(const SamplerOptions& options);
Prompt to_prompt(const DoublePrompt& p);  // exact: every double is a rational

}  // namespace iclcert
