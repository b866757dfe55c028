// `check` as a call: a certified verdict (proved / refuted / undecided) for one
// claim of spec section 6 (A1, A2, E1, E2, C1, R1 and R1's map) on one instance,
// box or sample; `replay` re-checks a verdict file. The command `iclcert check`
// and the Python package are front ends over these calls.
#pragma once

#include "api/account.hpp"
#include "api/control.hpp"
#include "api/instance.hpp"
#include "claims/paving.hpp"
#include "claims/verdict.hpp"
#include "gpu/progress.hpp"
#include "numerics/model.hpp"
#include "numerics/prompt.hpp"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace iclcert::api {

// What is checked: the flags of `iclcert check` of the same names, recorded in the
// verdict file's evidence.options. Numbers the file records as given (box, ball,
// confidence: exact decimals or fractions) stay text, so that the file says what
// was asked, digit for digit.
struct CheckOptions {
  std::string claim;  // A1 | A2 | E1 | E2 | C1 | R1
  InstanceOptions instance;  // files, sampler; C1 draws its prompts with it, E1 its permutations from its seed
  std::string arith = "interval", layers, metric = "fisher";
  long prec = 128, max_prec = 1024;
  std::vector<std::string> box;  // R1: NAME=LO:HI
  std::string ball, confidence = "0.99";
  long samples = 200, budget = 256;  // samples: C1's count
  bool map = false;                  // R1: pave the box
  std::string form = "taylor2";      // R1: taylor2 | taylor3 | affine | centred | plain (theory/affine_forms.md)
  // R1's paving order: "ordered" (closest to deciding first, with the monotonicity
  // test, issue 26) or "breadth_first" (before it): a replay of a file written
  // before issue 26, which has no `paving`, takes breadth_first.
  std::string paving = "ordered";
  double time_limit = 0;  // R1 map: stop paving after this many seconds (0: none)
};

struct CheckRequest {
  CheckOptions options;
  // The instance: absent, it comes from options.instance (files, the sampler) or
  // the embedded default. `prompt_source` names a given prompt in the account.
  std::optional<Prompt> prompt;
  std::optional<Model> model;
  std::string prompt_source = "the given prompt", model_source = "the given model";
  // options.arith may be "interval:BITS", which sets prec; with prec_given the two must agree.
  bool prec_given = false;
  // Files to write (empty: none), committed together at the end or not at all:
  // the verdict file, R1's region list as CSV and as JSON (docs/formats.md).
  std::string json_out, map_csv, map_json;
  gpu::ProgressMode progress_line = gpu::ProgressMode::never;  // the stderr line of C1 and R1
  AccountReceiver on_account;  // gets the account as it is written (besides `account`)
};

struct CheckResult {
  claims::ClaimReport report;
  Json verdict;                                 // the verdict file's content
  std::shared_ptr<const claims::Paving> map;    // R1 with options.map: the regions
  std::vector<std::string> map_coefficients;    // the map's axes, in box order
  std::string map_csv, map_json;                // the region list as --map-csv and --map-json write it
  std::string account;                          // what `iclcert check` prints
  int exit_status = 0;                          // 0 proved, 1 refuted, 3 undecided
};

// Throws std::invalid_argument or InputError (bad options or input, a claim's
// hypotheses not met: the command's exit 2) and Cancelled.
CheckResult check(const CheckRequest& request, const Control& control = {});

struct ReplayRequest {
  std::string verdict_file;
  std::string json_out;  // the recomputed verdict file (empty: none)
  gpu::ProgressMode progress_line = gpu::ProgressMode::never;
  AccountReceiver on_account;
  // The verdict given in memory instead of verdict_file (the file's JSON), named
  // `verdict_name` in the account and in messages.
  std::optional<Json> verdict;
  std::string verdict_name = "the given verdict";
};

struct ReplayResult {
  bool reproduced = false;
  std::vector<std::string> differences;  // why not
  Json verdict;                          // the recomputed verdict file
  std::string account;
  int exit_status = 1;  // 0 reproduced, 1 not
};

// Re-checks a verdict file with its recorded options: the verdict and every
// recorded number. A refuted verdict runs from its counterexample alone; C1
// (statistical) re-draws its prompts from the recorded seed and sampler options.
ReplayResult replay(const ReplayRequest& request, const Control& control = {});

// One point check, for calls that run many (sweep): exactly what `check --claim
// CLAIM --metric METRIC --sample SAMPLE --seed SEED --prec P --max-prec Q` runs on
// (prompt, model) with the default Arb interval arithmetic and its precision
// escalation; `sample` and `seed` are only recorded (E1 draws its permutations from
// `seed`). Throws std::invalid_argument for options out of range and
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

}  // namespace iclcert::api
