// The paving of R1 (theory/claims.md, "R1 as a paving"): the box of coefficients is
// bisected, SIVIA-style, into proved, refuted and undecided regions.
//
// Regions. `proved`: the claim is certified at every point of the region;
// `refuted`: its failure is certified at every point, and the region's midpoint is
// a replayable counterexample; `undecided`: the budget ran out first. The volume
// fractions are exact (bisection halves, so each region's volume is a power of
// 1/2 of the whole) and sum to 1. Besides the regions, every sub-box whose
// midpoint fails (certified, as a point) gives a refuting point, even when the
// sub-box itself is undecided.
//
// Order and budget (issue 26). Pending sub-boxes are taken in rounds of at most
// kPavingRound, the closest to deciding for their volume first: by the `distance`
// their parent's evaluation reported (BoxResult), plus 0.1, divided by their
// volume (so a boundary between regions, close to deciding at every depth, cannot
// take the budget from large sub-boxes), then the shallower, then the earlier queued.
// Each evaluated sub-box counts one against the budget, so a run is reproducible
// whatever the machine. An undecided sub-box is halved along the dimension its
// evaluation names (`split`: the one that contributes most width to the undecided
// quantity), or else along the coefficient of largest width relative to the whole
// box (the first such); left half first. `breadth_first` restores the order before
// issue 26 (one FIFO queue, the widest relative dimension), for comparisons.
//
// The seam for distributed evaluation. Sub-boxes are evaluated in batches through
// `BoxEvaluator`, a function from a batch to one result per sub-box, in order. It
// must be pure: a result depends on the sub-box and the check's fixed context
// (prompt, model, claim options, working precision) only, never on the batch it
// came in or on earlier results. `pave` merges the results in queue order and
// forms the next round only after the whole round is merged, so the batch size
// and who evaluates a batch (a thread, another MPI rank) cannot change the paving:
// any evaluator that returns the same results gives byte-identical output.
// claims/robustness.hpp supplies the evaluator (evaluate_sub_box).
//
// A time limit stops the paving before a batch once it has passed: what was
// decided stays decided (each region is certified on its own), the rest is
// undecided. Where it stopped depends on the machine; the same paving is
// reproduced by the budget `evaluated` without a time limit (same order).
#pragma once

#include "claims/verdict.hpp"
#include "numerics/rational.hpp"

#include <functional>
#include <string>
#include <vector>

namespace iclcert::claims {

struct SubBox {
  std::vector<std::pair<Rational, Rational>> ranges;  // one [lo, hi] per box dimension
  Rational volume = 1;  // fraction of the whole box
  int depth = 0;        // bisections from the whole box
};

struct BoxResult {
  Verdict verdict = Verdict::undecided;  // of the whole sub-box
  // The sub-box's midpoint as a certified counterexample, or null: set whenever the
  // midpoint fails (always, in practice, when the sub-box is refuted).
  Json refuting_point = nullptr;
  // Hints for the paving's order, pure functions of the sub-box like the verdict.
  // `split`: the dimension to bisect, -1 for the widest relative to the whole box.
  // `distance`: how far the evaluation was from deciding (0: decided; about 1 per
  // undecided transition, fractions for nearly decided ones); smaller goes first.
  int split = -1;
  double distance = 0;
};

inline constexpr int kPavingRound = 32;  // sub-boxes per round at most (see above)

using BoxEvaluator = std::function<std::vector<BoxResult>(const std::vector<SubBox>&)>;

struct Region {
  SubBox box;
  Verdict status;  // proved, refuted or undecided
};

struct PavingOptions {
  int budget = 256;  // sub-boxes evaluated at most
  // R1 without --map: stop at the first refuting point (the verdict is then known).
  bool stop_at_first_refutation = false;
  // Sub-boxes per call of the evaluator (at most a round); results do not depend on it.
  int batch = 64;
  bool breadth_first = false;  // the order before issue 26: one FIFO queue, widest relative dimension
  double time_limit = 0;       // seconds, 0 for none; checked before each batch
};

struct PavingProgress {
  int evaluated, budget;
  Rational proved, refuted, undecided;  // volume fractions so far (undecided: pending)
};

struct Paving {
  std::vector<Region> regions;  // decided ones in the order decided, then the pending ones
  Json refuting_points = Json::array();  // {"sub_box", "failure"} in queue order
  int evaluated = 0;
  Rational proved = 0, refuted = 0, undecided = 0;  // exact; they sum to 1
  std::size_t pending = 0;  // undecided sub-boxes left in the queue
  bool stopped_at_refutation = false;
  bool stopped_at_time_limit = false;  // the time limit passed with sub-boxes pending
};

// Paves the box whose dimensions are `whole` (at least one range, or none for a
// ball alone, which is evaluated once and never split).
Paving pave(const std::vector<std::pair<Rational, Rational>>& whole, const PavingOptions& o,
            const BoxEvaluator& evaluate, const std::function<void(const PavingProgress&)>& progress = {});

// Where to split an undecided sub-box by default: the dimension of largest width
// relative to the whole box (the first on ties); -1 with no dimension.
int split_dimension(const SubBox& b, const std::vector<std::pair<Rational, Rational>>& whole);

// The region list of docs/formats.md ("R1 maps"): CSV, one row per region, and JSON
// with the volume fractions, the regions and the refuting points' coordinates.
// `names` are the box's coefficients, in order; `header` is merged into the JSON.
std::string regions_csv(const Paving& p, const std::vector<std::string>& names);
Json regions_json(const Paving& p, const std::vector<std::string>& names, const Json& header);

}  // namespace iclcert::claims
