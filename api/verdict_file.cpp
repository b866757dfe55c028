#include "api/verdict_file.hpp"

#include "claims/display.hpp"
#include "claims/robustness.hpp"
#include "api/instance.hpp"
#include "io/limits.hpp"
#include "io/model_io.hpp"
#include "io/prompt_io.hpp"
#include "numerics/precision.hpp"

#include <algorithm>
#include <cctype>
#include <set>

namespace iclcert::api {

long max_check_precision_bits() {
  return static_cast<long>(std::min<std::uint64_t>(limit(Limit::precision_bits), kMaxMpfrBits));
}

claims::LayerRange parse_layers(const std::string& text) {
  claims::LayerRange r;
  if (text.empty()) return r;
  const std::string usage = "--layers " + text.substr(0, 40) + ": expected T0:T1, two whole numbers (for example 0:6)";
  const auto colon = text.find(':');
  auto whole = [&](const std::string& s) {
    // Digits only: stoi would take "3abc" as 3 and " 3" or "+3" too.
    if (s.empty() || s.size() > 6 || !std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isdigit(c); }))
      throw std::invalid_argument(usage);
    return std::stoi(s);
  };
  if (colon == std::string::npos) throw std::invalid_argument(usage);
  r.first = whole(text.substr(0, colon));
  r.last = whole(text.substr(colon + 1));
  if (r.last <= r.first) throw std::invalid_argument("--layers " + text + ": expected 0 <= T0 < T1");
  return r;
}

namespace {

// Deeper than any verdict file nests (R1's refuting points: 5 levels).
constexpr int kMaxResultDepth = 16;

// Fields of `evidence` that record the circumstances of a run, not its results.
bool circumstance(const std::string& key) {
  return key == "seconds" || key == "precision_escalation" || key == "options" || key == "instance";
}

// The fields docs/formats.md gives a certified value: an enclosure ["lo", "hi"], an
// exact number, or (a ratio) "+inf" or null. Only these are read as enclosures,
// whatever the shape of other values: a prompt row of d = 2 is two numbers, not an
// interval, and R1's sub_box ranges are exact.
bool enclosure_field(const std::string& key) {
  static const std::set<std::string> kFields = {"before",      "after",
                                                "run_of_moved", "moved_run",
                                                "mean_alignment_lower_bound", "mean_alignment_upper_bound",
                                                "accuracy_lower_bound"};
  return kFields.contains(key);
}

std::optional<Rational> number_text(const Json& v) {
  if (!v.is_string()) return std::nullopt;
  try {
    return parse_rational(v.get_ref<const std::string&>());
  } catch (const std::invalid_argument&) {
    return std::nullopt;
  }
}

// Every leaf of `v` under `path`, as it is: the exact form of a prompt or model.
void flatten(const Json& v, const std::string& path, std::map<std::string, Json>& out) {
  if (v.is_array() && !v.empty()) {
    for (std::size_t k = 0; k < v.size(); ++k) flatten(v[k], path + "[" + std::to_string(k) + "]", out);
  } else if (v.is_object() && !v.empty()) {
    for (const auto& [key, value] : v.items()) flatten(value, path + "." + key, out);
  } else {
    out[path] = v;
  }
}

Json canonical_prompt(const Json& v, const std::string& path, const std::string& file) {
  const auto prompts = parse_prompts(v, file + " (" + path + ")");
  if (prompts.size() != 1) throw InputError(file, path, "expected one prompt, got " + std::to_string(prompts.size()));
  return prompt_to_json(prompts.front());
}

Json canonical_model(const Json& v, const std::string& path, const std::string& file) {
  return model_to_json(parse_model(v, file + " (" + path + ")"));
}

// An enclosure field's value: ["lo", "hi"] or a number; anything else ("+inf",
// null) must be equal.
void collect_enclosure(const Json& v, const std::string& path, RecordedResults& out, const std::string& file) {
  if (v.is_array() && v.size() == 2) {
    const auto lo = number_text(v[0]), hi = number_text(v[1]);
    if (!lo || !hi) throw InputError(file, path, "an enclosure [\"lo\", \"hi\"] of two numbers");
    if (*lo > *hi) throw InputError(file, path, "an enclosure [lo, hi] with lo > hi");
    out.enclosures[path] = {*lo, *hi};
  } else if (const auto q = number_text(v)) {
    out.enclosures[path] = {*q, *q};
  } else {
    out.exact[path] = v;
  }
}

// `key`: the field `v` is the value of ("" for an array element).
void collect(const Json& v, const std::string& key, const std::string& path, int depth, RecordedResults& out,
             const std::string& file) {
  if (depth > kMaxResultDepth) throw InputError(file, path, "nested deeper than a verdict file is");
  if (enclosure_field(key)) return collect_enclosure(v, path, out, file);
  // A prompt or model recorded among the results (R1's refuting points) is read as
  // one and recorded number by number in its exact form: an edit is a difference.
  if (key == "prompt") return flatten(canonical_prompt(v, path, file), path, out.exact);
  if (key == "model") return flatten(canonical_model(v, path, file), path, out.exact);
  if (v.is_array()) {
    for (std::size_t k = 0; k < v.size(); ++k)
      collect(v[k], "", path + "[" + std::to_string(k) + "]", depth + 1, out, file);
  } else if (v.is_object()) {
    for (const auto& [name, value] : v.items()) collect(value, name, path + "." + name, depth + 1, out, file);
  } else if (const auto q = number_text(v)) {
    out.enclosures[path] = {*q, *q};  // an exact number: equal as a number ("1/2" is "0.5")
  } else {
    out.exact[path] = v;
  }
}

// Re-raises a flag parser's complaint as one about the file's field.
template <class F>
auto as_field(const JsonReader& field, F&& parse) {
  try {
    return parse();
  } catch (const std::invalid_argument& e) {
    field.fail(e.what());
  }
}

RecordedOptions parse_options(const JsonReader& o) {
  o.expect_object({"layers", "metric", "seed", "prec", "max_prec", "arith", "box", "ball", "budget", "sample",
                   "balanced", "margin", "samples", "confidence", "map", "form", "paving"});
  RecordedOptions r;
  const long max_bits = max_check_precision_bits();
  if (o.has("layers")) {
    const JsonReader f = o.field("layers");
    r.layers = f.string();
    as_field(f, [&] { return parse_layers(*r.layers); });
  }
  if (o.has("metric")) r.metric = o.field("metric").one_of({"fisher", "gap"});
  if (o.has("arith")) r.arith = o.field("arith").one_of({"interval", "interval-mpfi", "rational"});
  if (o.has("seed")) {
    const JsonReader f = o.field("seed");
    if (!f.value().is_number_unsigned()) f.fail("expected a whole number in [0, 2^64 - 1], got " + describe_json(f.value()));
    r.seed = f.value().get<std::uint64_t>();
  }
  if (o.has("prec")) r.prec = o.field("prec").integer(kMinMpfrBits, max_bits);
  if (o.has("max_prec")) r.max_prec = o.field("max_prec").integer(kMinMpfrBits, max_bits);
  if (r.prec && r.max_prec && *r.prec > *r.max_prec) o.field("prec").fail("expected prec <= max_prec");
  if (o.has("samples")) r.samples = o.field("samples").integer(1, kMaxCheckSamples);
  if (o.has("budget")) r.budget = o.field("budget").integer(1, kMaxCheckBudget);
  if (o.has("form")) r.form = o.field("form").one_of(claims::kEnclosureFormNames);
  if (o.has("paving")) r.paving = o.field("paving").one_of({"ordered", "breadth_first"});
  if (o.has("box")) {
    const JsonReader f = o.field("box");
    r.box.emplace();
    for (std::size_t k = 0; k < f.expect_array(0, 64); ++k) {
      const JsonReader b = f.element(k);
      r.box->push_back(b.string());
      as_field(b, [&] { return claims::parse_box(r.box->back()); });
    }
  }
  auto number_string = [&](const char* key, std::optional<std::string>& into) {
    if (!o.has(key)) return;
    const JsonReader f = o.field(key);
    into = f.string();
    if (!into->empty()) as_field(f, [&] { return parse_rational(*into); });
  };
  number_string("ball", r.ball);
  number_string("margin", r.margin);
  number_string("confidence", r.confidence);
  if (r.ball && !r.ball->empty() && parse_rational(*r.ball) < 0) o.field("ball").fail("expected a radius >= 0");
  if (r.confidence) {
    const Rational c = r.confidence->empty() ? Rational(-1) : parse_rational(*r.confidence);
    if (!(c > 0 && c < 1)) o.field("confidence").fail("expected a level in (0, 1)");
  }
  if (o.has("balanced")) r.balanced = o.field("balanced").boolean();
  if (o.has("map")) r.map = o.field("map").boolean();
  if (o.has("sample")) {
    const JsonReader f = o.field("sample");
    r.sample = f.string();
    if (!r.sample->empty()) {
      InstanceOptions in;
      in.sample = *r.sample;
      as_field(f, [&] { return sampler_options(in); });  // the sizes' limits of --sample
    }
  }
  return r;
}

claims::Verdict parse_verdict(const JsonReader& f) {
  const std::string v = f.one_of({"proved", "refuted", "undecided"});
  return v == "proved" ? claims::Verdict::proved
                       : (v == "refuted" ? claims::Verdict::refuted : claims::Verdict::undecided);
}

std::string shown(const RecordedEnclosure& e) {
  if (e.lo == e.hi) {
    const std::string exact = to_string(e.lo);
    if (exact.size() <= 24) return exact;
  }
  return "[" + claims::directed_decimal(e.lo, false) + ", " + claims::directed_decimal(e.hi, true) + "]";
}

std::string shown(const Json& v) { return describe_json(v, 60); }

// Paths in document order: "layers[2]" before "layers[10]".
bool natural_less(const std::string& a, const std::string& b) {
  std::size_t i = 0, j = 0;
  while (i < a.size() && j < b.size()) {
    if (std::isdigit(static_cast<unsigned char>(a[i])) && std::isdigit(static_cast<unsigned char>(b[j]))) {
      std::size_t ei = i, ej = j;
      while (ei < a.size() && std::isdigit(static_cast<unsigned char>(a[ei]))) ++ei;
      while (ej < b.size() && std::isdigit(static_cast<unsigned char>(b[ej]))) ++ej;
      if (ei - i != ej - j) return ei - i < ej - j;  // no leading zeros in indices
      if (const int c = a.compare(i, ei - i, b, j, ej - j); c != 0) return c < 0;
      i = ei, j = ej;
    } else {
      if (a[i] != b[j]) return a[i] < b[j];
      ++i, ++j;
    }
  }
  return a.size() - i < b.size() - j;
}

}  // namespace

ResultComparison compare_results(const RecordedResults& recorded, const RecordedResults& recomputed,
                                 const std::vector<std::string>* only) {
  ResultComparison out;
  std::vector<std::pair<std::string, std::string>> differences;  // path, line
  auto differ = [&](const std::string& path, const std::string& why) { differences.push_back({path, path + ": " + why}); };
  if (!only) {
    for (const auto& [path, value] : recorded.exact) {
      const auto it = recomputed.exact.find(path);
      if (it == recomputed.exact.end())
        differ(path, "recorded " + shown(value) + ", which the replay does not compute");
      else if (it->second != value)
        differ(path, "recorded " + shown(value) + ", recomputed " + shown(it->second));
    }
  }
  for (const auto& [path, rec] : recorded.enclosures) {
    if (only && std::find(only->begin(), only->end(), path) == only->end()) continue;
    const auto it = recomputed.enclosures.find(path);
    if (it == recomputed.enclosures.end()) {
      differ(path, "recorded " + shown(rec) + ", which the replay does not compute");
      continue;
    }
    const RecordedEnclosure& now = it->second;
    if (rec.lo <= now.lo && now.hi <= rec.hi) continue;
    // Disjoint: the recorded interval misses the value the recomputed one holds.
    // Overlapping: a thinner recomputation may fit; a point cannot hold a wider one.
    if (rec.lo == rec.hi && now.lo == now.hi)  // exact numbers
      differ(path, "recorded " + shown(rec) + ", recomputed " + shown(now));
    else if (now.hi < rec.lo || rec.hi < now.lo || rec.lo == rec.hi)
      differ(path, "recorded " + shown(rec) + " does not contain the recomputed " + shown(now));
    else
      out.overlapping.push_back(path);
  }
  std::stable_sort(differences.begin(), differences.end(),
                   [](const auto& a, const auto& b) { return natural_less(a.first, b.first); });
  for (auto& d : differences) out.differences.push_back(std::move(d.second));
  return out;
}

RecordedResults recorded_results(const Json& evidence, const Json& counterexample, const std::string& file) {
  RecordedResults out;
  if (evidence.is_object())
    for (const auto& [key, value] : evidence.items())
      if (!circumstance(key)) collect(value, key, "evidence." + key, 1, out, file);
  if (counterexample.is_object()) {
    for (const auto& [key, value] : counterexample.items())
      if (key != "prompt" && key != "model") collect(value, key, "counterexample." + key, 1, out, file);
  } else {
    out.exact["counterexample"] = counterexample;
  }
  return out;
}

VerdictFile parse_verdict_file(const Json& json, const std::string& file) {
  JsonReader root(file, json);
  root.expect_object({"format", "claim", "verdict", "precision_bits", "evidence", "counterexample"});
  expect_format_1(root);
  VerdictFile v;
  v.file = file;
  v.claim = root.field("claim").one_of({"A1", "A2", "E1", "E2", "C1", "R1"});
  v.verdict = parse_verdict(root.field("verdict"));
  const JsonReader evidence = root.field("evidence");
  if (!evidence.value().is_object()) evidence.fail("expected an object");
  if (evidence.has("options")) v.options = parse_options(evidence.field("options"));

  const JsonReader bits = root.field("precision_bits");
  v.precision_bits = bits.integer(0, max_check_precision_bits());
  const bool exact = v.options.arith == "rational";
  if (exact && v.precision_bits != 0) bits.fail("expected 0 (the arithmetic is rational)");
  if (!exact && v.precision_bits < kMinMpfrBits)
    bits.fail("expected " + std::to_string(kMinMpfrBits) + " to " + std::to_string(max_check_precision_bits()) +
              " bits (the arithmetic is " + v.options.arith.value_or("interval") + ")");

  const JsonReader counterexample = root.field("counterexample");
  if (!counterexample.value().is_object() && !counterexample.value().is_null())
    counterexample.fail("expected an object or null");
  // C1 is statistical: no single prompt refutes it; its prompts are re-drawn.
  const bool from_counterexample = v.verdict == claims::Verdict::refuted && v.claim != "C1";
  const JsonReader source = from_counterexample ? counterexample : evidence.field("instance");
  if (!source.value().is_object()) source.fail("expected an object with the prompt and the model");
  v.instance_field = source.path();
  if (v.claim != "C1" || source.has("prompt")) {
    const JsonReader prompt = source.field("prompt");
    const auto prompts = parse_prompts(prompt.value(), file + " (" + prompt.path() + ")");
    if (prompts.size() != 1) prompt.fail("expected one prompt, got " + std::to_string(prompts.size()));
    v.prompt = prompts.front();
  }
  const JsonReader model = source.field("model");
  v.model = parse_model(model.value(), file + " (" + model.path() + ")");
  v.recorded = recorded_results(evidence.value(), counterexample.value(), file);
  if (from_counterexample && evidence.has("instance")) {
    const JsonReader instance = evidence.field("instance");
    instance.expect_object({"prompt", "model"});
    const JsonReader p = instance.field("prompt"), m = instance.field("model");
    flatten(canonical_prompt(p.value(), p.path(), file), p.path(), v.refuted_instance);
    flatten(canonical_model(m.value(), m.path(), file), m.path(), v.refuted_instance);
  }
  return v;
}

std::vector<std::string> instance_differences(const VerdictFile& v, const Prompt& p, const Model& m) {
  std::vector<std::string> out;
  if (v.refuted_instance.empty()) return out;
  std::map<std::string, Json> now;
  flatten(prompt_to_json(p), "evidence.instance.prompt", now);
  flatten(model_to_json(m), "evidence.instance.model", now);
  std::set<std::string> boxed;  // "beta": a reduced layer's training coefficient, "layers[l].beta"
  if (v.claim == "R1")
    for (const auto& b : v.options.box.value_or(std::vector<std::string>{})) boxed.insert(claims::parse_box(b).coefficient);
  auto skipped = [&](const std::string& path) {
    const std::string layers = "evidence.instance.model.layers[";
    if (path.rfind(layers, 0) != 0) return false;
    const auto close = path.find("].", layers.size());
    return close != std::string::npos && boxed.contains(path.substr(close + 2));
  };
  for (const auto& [path, value] : v.refuted_instance) {
    if (skipped(path)) continue;
    const auto it = now.find(path);
    if (it == now.end())
      out.push_back(path + ": recorded " + shown(value) + ", which the counterexample's instance does not have");
    else if (it->second != value)
      out.push_back(path + ": recorded " + shown(value) + ", the counterexample's " + shown(it->second));
  }
  for (const auto& [path, value] : now)
    if (!skipped(path) && !v.refuted_instance.contains(path))
      out.push_back(path + ": not recorded, the counterexample's " + shown(value));
  std::stable_sort(out.begin(), out.end(), natural_less);
  return out;
}

}  // namespace iclcert::api
