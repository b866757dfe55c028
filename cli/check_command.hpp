#pragma once

#include "claims/verdict.hpp"
#include "api/instance.hpp"
#include "numerics/model.hpp"
#include "numerics/prompt.hpp"

#include <CLI/CLI.hpp>

#include <cstdint>
#include <cstdio>
#include <functional>
#include <memory>

namespace iclcert::claims {
struct Paving;
}

namespace iclcert::cli {

// `iclcert check --claim ID`: a certified verdict (proved / refuted / undecided) for
// one claim of spec section 6 on one instance, box or sample; `--replay FILE`
// re-checks a verdict file.
std::function<int()> register_check(CLI::App& app);

// The options of `iclcert check` (the flags of the same names).
struct CheckOptions {
  InstanceOptions instance;
  std::string claim, arith = "interval", layers, metric = "fisher", json_out, replay;
  long prec = 128, max_prec = 1024;
  std::vector<std::string> box;
  std::string ball, confidence = "0.99";
  long samples = 200, budget = 256;  // samples: --count (its old spelling: --samples)
  // The progress line of C1 and R1 (gpu/progress.hpp): --progress, --no-progress.
  bool progress = false, no_progress = false;
  // R1: pave the box (--map), the enclosure form, and the region list's files.
  bool map = false;
  std::string form = "centred", map_csv, map_json;
  // R1's paving order: "ordered" (closest to deciding first, with the monotonicity
  // test, issue 26) or "breadth_first" (before it). Not an option: a replay of a
  // file written before issue 26, which has no `paving`, takes breadth_first.
  std::string paving = "ordered";
  double time_limit = 0;  // --map --time-limit SECONDS: stop paving then (0: none)
  std::shared_ptr<claims::Paving> map_regions;  // set by the command: receives the paving
};

// What `iclcert check --claim` does once its instance is loaded, for the command
// and for the Python package alike: the flags' limits, the check with its
// precision escalation, its account printed to `log`, and the verdict file's
// content (docs/formats.md). Throws std::invalid_argument (bad options, a claim's
// hypotheses not met) as the command exits 2.
struct CheckRun {
  claims::ClaimReport report;
  Json verdict;
};
CheckRun check_claim(const CheckOptions& o, const Prompt& p, const Model& m, const std::string& source, std::FILE* log);

// `iclcert check --replay o.replay` with its account printed to `log`: 0 reproduced,
// 1 not; it writes o.json_out when that is not empty, as the command does.
int replay_verdict(const CheckOptions& o, std::FILE* log);

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
