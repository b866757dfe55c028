// Reading a verdict file (`iclcert check --json`, docs/formats.md) for
// `iclcert check --replay`. A verdict file is input like any other: every field is
// checked, and its precision, samples, budget and sizes are held to the same
// limits as the flags of `iclcert check` (check_limits below). Any malformed value
// is an InputError naming the file and the field; nothing here crashes on input.
#pragma once

#include "claims/separation.hpp"
#include "claims/verdict.hpp"
#include "io/json_reader.hpp"
#include "numerics/model.hpp"
#include "numerics/prompt.hpp"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace iclcert::api {

// The limits of `iclcert check`, one place for the flags and for a replayed file:
// precision in [kMinMpfrBits, limit(Limit::precision_bits)] (raise the latter with
// ICLCERT_MAX_PRECISION_BITS), C1 samples in [1, kMaxCheckSamples], R1 budget in
// [1, kMaxCheckBudget] (io/limits.hpp; fixed).
long max_check_precision_bits();

// "T0:T1" (0 <= T0 < T1, whole numbers, nothing else) or "" (every layer); throws
// std::invalid_argument naming --layers.
claims::LayerRange parse_layers(const std::string& text);

// evidence.options: the options the check ran with. A field absent from the file
// stays unset (the default of `iclcert check` applies).
struct RecordedOptions {
  std::optional<std::string> layers, metric, arith, ball, sample, margin, confidence;
  std::optional<std::vector<std::string>> box;
  std::optional<bool> balanced, map;  // map: R1 --map
  std::optional<std::string> form;    // R1: centred | plain (absent: plain, files before the centred form)
  std::optional<std::string> paving;  // R1: ordered | breadth_first (absent: breadth_first, files before issue 26)
  std::optional<long> prec, max_prec, samples, budget;
  std::optional<std::uint64_t> seed;
};

// A recorded number: an enclosure ["lo", "hi"], or an exact number (lo == hi).
struct RecordedEnclosure {
  Rational lo, hi;
};

// What a replay must reproduce, by field path ("evidence.layers[2].after"): every
// number and text of `evidence` and `counterexample` except the circumstances of
// the run (evidence.seconds, precision_escalation, options, instance) and the
// counterexample's prompt and model, which are the replay's input. Read by the
// schema of docs/formats.md, not by the shape of a value: only the fields that hold
// a certified value (before, after, ...) are enclosures; a prompt or model among
// the results (R1's refuting points) is read as one, and recorded leaf by leaf in
// its exact form ("...failure.prompt.X[1][0]"), to be equal.
struct RecordedResults {
  std::map<std::string, RecordedEnclosure> enclosures;  // numbers: must contain the recomputed one
  std::map<std::string, Json> exact;                    // text, counts, +inf, null: must be equal
};

// The results of a verdict's `evidence` and `counterexample` (as recorded, or as
// just recomputed). Throws InputError naming `file` on an enclosure with lo > hi or
// nesting deeper than a verdict file has.
RecordedResults recorded_results(const Json& evidence, const Json& counterexample, const std::string& file);

struct VerdictFile {
  std::string file;
  std::string claim;  // A1 A2 E1 E2 C1 R1
  claims::Verdict verdict = claims::Verdict::undecided;
  long precision_bits = 0;  // 0: exact (rational) arithmetic
  RecordedOptions options;
  // The instance the replay runs on: the counterexample's prompt and model for a
  // refuted verdict (field "counterexample"), evidence.instance's otherwise. C1 is
  // statistical: it re-draws its prompts from the options and seeds, so it reads
  // only the model (from evidence.instance) and `prompt` may be unset.
  std::string instance_field;
  std::optional<Prompt> prompt;
  Model model;
  RecordedResults recorded;
  // A refuted file's evidence.instance (the instance the check ran on; the replay
  // runs on the counterexample's), leaf by leaf in its exact form; empty when the
  // file has none or is not refuted. instance_differences compares it.
  std::map<std::string, Json> refuted_instance;
};

VerdictFile parse_verdict_file(const Json& json, const std::string& file);

// A refuted file's evidence.instance against the instance the replay ran on, the
// counterexample's prompt `p` and model `m`: they must be equal, except (R1) the
// training coefficients the box ranges over, which the counterexample sets to its
// refuting point. One line per difference.
std::vector<std::string> instance_differences(const VerdictFile& v, const Prompt& p, const Model& m);

// How a replay's results compare with the recorded ones (theory/claims.md,
// "Replay"): a recorded number is reproduced when its enclosure contains the
// recomputed one (an exact number: when equal), anything else recorded when equal.
// What the replay computes and the file does not record is not compared (a file
// may record less, as older ones do; the verdict is always compared).
struct ResultComparison {
  std::vector<std::string> differences;  // one line each: the path, recorded and recomputed
  // Recorded enclosures that overlap the recomputed one without containing it: a
  // recomputation at more bits (a thinner enclosure) may still fit inside.
  std::vector<std::string> overlapping;
};
// `only`: compare these enclosure paths only (the overlapping ones of an earlier
// comparison, against a recomputation at more bits).
ResultComparison compare_results(const RecordedResults& recorded, const RecordedResults& recomputed,
                                 const std::vector<std::string>* only = nullptr);

}  // namespace iclcert::api

// Transitional (issue 24): the commands of cli/ still name these unqualified.
namespace iclcert::cli {
using namespace iclcert::api;
}
