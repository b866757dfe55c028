#pragma once

#include "claims/verdict.hpp"
#include "numerics/model.hpp"
#include "numerics/prompt.hpp"

#include <CLI/CLI.hpp>

#include <cstdint>
#include <functional>

namespace iclcert::cli {

// `iclcert check --claim ID`: a certified verdict (proved / refuted / undecided) for
// one claim of spec section 6 on one instance, box or sample; `--replay FILE`
// re-checks a verdict file.
std::function<int()> register_check(CLI::App& app);

// One point check, for commands that run many (`iclcert sweep`): exactly what
// `iclcert check --claim CLAIM --metric METRIC --sample SAMPLE --seed SEED --prec P
// --max-prec Q` runs on (prompt, model) with the default Arb interval arithmetic and
// its precision escalation; `sample` and `seed` are only recorded (E1 draws its
// permutations from `seed`). Throws std::invalid_argument for flags out of range and
// claims::ClaimInputError when the claim's hypotheses fail (A1).
struct PointCheck {
  std::string claim, metric = "fisher", sample;
  std::uint64_t seed = 1;
  long prec = 128, max_prec = 1024;
};
void check_point_limits(const PointCheck& c);
claims::ClaimReport check_point(const PointCheck& c, const Prompt& p, const Model& m);
// The verdict file `check --json` writes for that report (`check --replay` re-runs it).
Json point_verdict_file(const PointCheck& c, const claims::ClaimReport& r, const Prompt& p, const Model& m,
                        double seconds);

}  // namespace iclcert::cli
