// iclcert._core: the C++ library for Python (pybind11). Thin on purpose: every
// call binds the library call of api/ that the `iclcert` command is a front end
// over (api::check, api::batch, ...: typed requests and results), and returns the
// JSON or CSV text the command writes (docs/formats.md), which iclcert/__init__.py
// turns into pandas and NumPy objects. Nothing of the math is written here or in
// Python, and nothing of the command line (cli/) is used.
//
// Numbers in: a NumPy float64 enters as its exact rational value
// (rational_from_double), as a JSON number does in a file. Long calls run on a
// worker thread under an api::Control (_call.hpp): progress goes to the Python
// receiver given as `progress`, and Ctrl-C cancels the work itself.
#include "_call.hpp"
#include "api/arithmetic.hpp"
#include "api/batch.hpp"
#include "api/check.hpp"
#include "api/compare.hpp"
#include "api/extract.hpp"
#include "api/instance.hpp"
#include "api/predictions_file.hpp"
#include "api/run.hpp"
#include "api/sample.hpp"
#include "api/sweep.hpp"
#include "api/validate.hpp"
#include "gpu/batch_run.hpp"
#include "io/input_error.hpp"
#include "io/json_reader.hpp"
#include "io/limits.hpp"
#include "io/model_io.hpp"
#include "io/prompt_io.hpp"
#include "numerics/sampler.hpp"

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cmath>
#include <cstdio>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#ifndef ICLCERT_VERSION  // python/CMakeLists.txt passes the project's version
#define ICLCERT_VERSION "unknown"
#endif

namespace py = pybind11;
using namespace iclcert;
using python::run_call;

namespace {

using F64Array = py::array_t<double, py::array::c_style | py::array::forcecast>;
using I64Array = py::array_t<long long, py::array::c_style | py::array::forcecast>;

Rational exact(double v, const std::string& what) {
  if (!std::isfinite(v)) throw std::invalid_argument(what + ": expected a finite number, got " + std::to_string(v));
  return rational_from_double(v);
}

Prompt single_prompt(const std::string& text, const std::string& name) {
  std::vector<Prompt> prompts = parse_prompts(parse_json_text(text, name), name);
  if (prompts.size() != 1) throw InputError(name, "prompts", "expected a single prompt, got a batch of " + std::to_string(prompts.size()));
  return std::move(prompts[0]);
}

// A prompt from arrays: X (N x d), labels (N), probe (d); every double exactly.
Prompt prompt_of(const double* X, const long long* labels, const double* probe, std::optional<long long> probe_label,
                 int N, int d, int C, const std::string& what) {
  Prompt p;
  p.d = d, p.C = C, p.N = N;
  p.X = Matrix<Rational>(N, d);
  for (int i = 0; i < N; ++i)
    for (int k = 0; k < d; ++k) p.X(i, k) = exact(X[static_cast<std::size_t>(i) * d + k], what + " X");
  for (int i = 0; i < N; ++i) {
    if (labels[i] < 0 || labels[i] >= C)
      throw std::invalid_argument(what + " labels[" + std::to_string(i) + "] = " + std::to_string(labels[i]) +
                                  ": expected a class in 0.." + std::to_string(C - 1));
    p.labels.push_back(static_cast<int>(labels[i]));
  }
  for (int k = 0; k < d; ++k) p.probe.push_back(exact(probe[k], what + " probe"));
  if (probe_label) {
    if (*probe_label < 0 || *probe_label >= C)
      throw std::invalid_argument(what + " probe_label " + std::to_string(*probe_label) + ": expected a class in 0.." +
                                  std::to_string(C - 1));
    p.probe_label = static_cast<int>(*probe_label);
  }
  return p;
}

// Prompt JSON from arrays, validated by the library's own reader.
std::string prompt_from_arrays(F64Array X, I64Array labels, F64Array probe, std::optional<long long> probe_label, int C) {
  if (X.ndim() != 2 || labels.ndim() != 1 || probe.ndim() != 1)
    throw std::invalid_argument("prompt arrays: expected X of shape (N, d), labels (N,), probe (d,)");
  const int N = static_cast<int>(X.shape(0)), d = static_cast<int>(X.shape(1));
  if (labels.shape(0) != N || probe.shape(0) != d)
    throw std::invalid_argument("prompt arrays: labels must have N = " + std::to_string(N) + " entries and probe d = " +
                                std::to_string(d));
  const Prompt p = prompt_of(X.data(), labels.data(), probe.data(), probe_label, N, d, C, "prompt");
  const std::string text = prompt_to_json(p).dump();
  return prompt_to_json(single_prompt(text, "<prompt from arrays>")).dump(1);
}

std::string canonical_prompt(const std::string& text, const std::string& name) {
  return prompt_to_json(single_prompt(text, name)).dump(1);
}

std::string canonical_model(const std::string& text, const std::string& name) {
  return model_to_json(parse_model(parse_json_text(text, name), name)).dump(1);
}

// A dense model: layers of heads (S, V), each (d+C) x (d+C), every double exactly.
std::string dense_model(const std::vector<std::vector<std::pair<F64Array, F64Array>>>& layers, const std::string& kernel,
                        bool probe_is_key, const std::string& probe_label_init, int d, int C) {
  Json out = {{"format", 1}, {"d", d}, {"C", C}, {"kernel", kernel}, {"probe_label_init", probe_label_init},
              {"probe_is_key", probe_is_key}, {"layers", Json::array()}};
  const long D = d + C;
  auto matrix = [&](const F64Array& m, const std::string& what) {
    if (m.ndim() != 2 || m.shape(0) != D || m.shape(1) != D)
      throw std::invalid_argument(what + ": expected a " + std::to_string(D) + " x " + std::to_string(D) +
                                  " matrix (d + C = " + std::to_string(D) + ")");
    Json rows = Json::array();
    for (long r = 0; r < D; ++r) {
      Json row = Json::array();
      for (long c = 0; c < D; ++c) row.push_back(to_string(exact(m.data()[r * D + c], what)));
      rows.push_back(std::move(row));
    }
    return rows;
  };
  for (std::size_t l = 0; l < layers.size(); ++l) {
    Json heads = Json::array();
    for (std::size_t h = 0; h < layers[l].size(); ++h) {
      const std::string what = "layer " + std::to_string(l + 1) + " head " + std::to_string(h + 1);
      heads.push_back({{"score_matrix", matrix(layers[l][h].first, what + " score")},
                       {"value_matrix", matrix(layers[l][h].second, what + " value")}});
    }
    out["layers"].push_back({{"heads", std::move(heads)}});
  }
  return canonical_model(out.dump(), "<dense model from matrices>");
}



// A dict of keyword options, read into a request by `read(key, value)`: a value of
// another type (or an integer beyond the C++ type) is a TypeError, an unknown key a
// ValueError.
template <class Read>
void read_options(const char* call, const py::dict& options, Read&& read) {
  for (const auto& [key_obj, value] : options) {
    const std::string key = py::str(key_obj);
    bool known = true;
    try {
      known = read(key, value);
    } catch (const py::cast_error&) {
      throw py::type_error(std::string(call) + ": " + key + ": " + std::string(py::str(py::repr(value))).substr(0, 40) +
                           " is not of the expected type or range");
    }
    if (!known) throw std::invalid_argument(std::string(call) + ": unknown option " + key);
  }
}

// `run --arith A --json`: the trace file's text.
std::string run(const std::string& prompt_text, const std::string& model_text, const std::string& arith,
                const py::object& progress) {
  api::RunRequest rq;
  rq.prompt = single_prompt(prompt_text, "prompt");
  rq.model = parse_model(parse_json_text(model_text, "model"), "model");
  rq.arithmetics = {api::parse_arithmetic(arith)};
  return run_call([&](const api::Control& c) { return api::run(rq, c); }, progress).runs.at(0).trace.dump(1);
}

// `check --claim ...`: (exit status, verdict file text, account, and R1's map as
// (JSON text, CSV text) or None).
py::tuple check(const std::string& claim, std::optional<std::string> prompt_text, std::optional<std::string> model_text,
                const py::dict& options, const py::object& progress) {
  api::CheckRequest rq;
  api::CheckOptions& o = rq.options;
  o.claim = claim;
  read_options("check", options, [&](const std::string& key, const py::handle& value) {
    if (key == "arith") o.arith = value.cast<std::string>();
    else if (key == "layers") o.layers = value.cast<std::string>();
    else if (key == "metric") o.metric = value.cast<std::string>();
    else if (key == "prec") o.prec = value.cast<long>(), rq.prec_given = true;
    else if (key == "max_prec") o.max_prec = value.cast<long>();
    else if (key == "box") o.box = value.cast<std::vector<std::string>>();
    else if (key == "ball") o.ball = value.cast<std::string>();
    else if (key == "confidence") o.confidence = value.cast<std::string>();
    else if (key == "samples") o.samples = value.cast<long>();
    else if (key == "budget") o.budget = value.cast<long>();
    else if (key == "sample") o.instance.sample = value.cast<std::string>();
    else if (key == "seed") o.instance.seed = value.cast<std::uint64_t>();
    else if (key == "balanced") o.instance.balanced = value.cast<bool>();
    else if (key == "margin") o.instance.margin = value.cast<std::string>();
    else if (key == "map") o.map = value.cast<bool>();
    else if (key == "form") o.form = value.cast<std::string>();
    else if (key == "time_limit") o.time_limit = value.cast<double>();
    else return false;
    return true;
  });
  if (prompt_text) {
    if (!o.instance.sample.empty()) throw std::invalid_argument("check: give a prompt or sample, not both");
    rq.prompt = single_prompt(*prompt_text, "prompt");
    rq.prompt_source = "Python Prompt";
  }
  if (model_text) {
    rq.model = parse_model(parse_json_text(*model_text, "model"), "model");
    rq.model_source = "Python Model";
  }
  const api::CheckResult r = run_call([&](const api::Control& c) { return api::check(rq, c); }, progress);
  // R1's map: the region list as --map-json and --map-csv write it (api::CheckResult).
  return py::make_tuple(r.exit_status, r.verdict.dump(1), r.account,
                        r.map ? py::object(py::make_tuple(r.map_json, r.map_csv)) : py::none());
}

// `check --replay` of a verdict file's JSON text: (exit status, account).
py::tuple replay(const std::string& verdict_text, const py::object& progress) {
  api::ReplayRequest rq;
  rq.verdict_name = "Python Verdict";
  rq.verdict = parse_json_text(verdict_text, rq.verdict_name);
  const api::ReplayResult r = run_call([&](const api::Control& c) { return api::replay(rq, c); }, progress);
  return py::make_tuple(r.exit_status, r.account);
}

// The limits a batch file's prompts are read under (io/limits.hpp, docs/formats.md
// "Limits"), for arrays: B prompts of N training points, d features, C classes.
void require_batch_sizes(py::ssize_t B, py::ssize_t N, py::ssize_t d, long long C) {
  auto in = [](const char* what, long long v, long long lo, long long hi) {
    if (v < lo || v > hi)
      throw std::invalid_argument(std::string("batch: ") + what + " = " + std::to_string(v) + ": expected " +
                                  std::to_string(lo) + " to " + std::to_string(hi));
  };
  in("B (prompts, X.shape[0])", B, 1, kMaxBatchPrompts);
  in("N (training points, labels.shape[1])", N, 1, kMaxTrainingPoints);
  in("d (features, X.shape[2])", d, 1, kMaxFeatures);
  in("C (classes)", C, 2, kMaxClasses);
  if (N * (d + C) > kMaxPromptEntries)
    throw std::invalid_argument("batch: N * (d + C) = " + std::to_string(N * (d + C)) + " exceeds the limit of " +
                                std::to_string(kMaxPromptEntries));
}

// Prompts given as arrays: X[B, N+1, d] (rows 0..N-1 the training points, row N
// the probe), labels[B, N], probe_labels[B] (-1: none) or None.
std::vector<Prompt> prompts_of_arrays(const F64Array& X, const I64Array& labels,
                                      const std::optional<I64Array>& probe_labels, long long C) {
  if (X.ndim() != 3 || labels.ndim() != 2 || X.shape(0) != labels.shape(0) || X.shape(1) != labels.shape(1) + 1)
    throw std::invalid_argument("batch: expected X of shape (B, N+1, d) and labels of shape (B, N)");
  require_batch_sizes(X.shape(0), labels.shape(1), X.shape(2), C);
  const long B = static_cast<long>(X.shape(0));
  const int N = static_cast<int>(labels.shape(1)), d = static_cast<int>(X.shape(2));
  if (probe_labels && (probe_labels->ndim() != 1 || probe_labels->shape(0) != B))
    throw std::invalid_argument("batch: probe_labels must have shape (B,)");
  std::vector<Prompt> prompts;
  prompts.reserve(B);
  for (long b = 0; b < B; ++b) {
    const double* x = X.data() + static_cast<std::size_t>(b) * (N + 1) * d;
    std::optional<long long> pl;
    if (probe_labels && probe_labels->data()[b] != -1) pl = probe_labels->data()[b];
    prompts.push_back(prompt_of(x, labels.data() + static_cast<std::size_t>(b) * N, x + static_cast<std::size_t>(N) * d,
                                pl, N, d, static_cast<int>(C), "prompt " + std::to_string(b)));
  }
  return prompts;
}

gpu::BatchArith batch_arith(const std::string& a) {
  if (a == "float32") return gpu::BatchArith::float32;
  if (a == "float64") return gpu::BatchArith::float64;
  throw std::invalid_argument("arith " + a + ": the batch path runs in float32 or float64");
}

gpu::DeviceChoice device_choice(const std::string& d) {
  if (d == "auto") return gpu::DeviceChoice::automatic;
  if (d == "cpu") return gpu::DeviceChoice::cpu;
  if (d == "cuda") return gpu::DeviceChoice::cuda;
  throw std::invalid_argument("device " + d + ": expected auto, cpu or cuda");
}

// The command line's ranges (cli/batch_command.cpp): --threads 0..1024, --chunk 1..2^20.
void require_threads_chunk(long threads, long chunk) {
  if (threads < 0 || threads > 1024) throw std::invalid_argument("threads: expected 0 (every core) to 1024");
  if (chunk < 1 || chunk > (1 << 20)) throw std::invalid_argument("chunk: expected 1 to 2^20 prompts");
}

// `batch` over prompts given as arrays, or sampled (`sample` "d,C,N" with count and
// seed, as `batch --sample`): (exit status, the results file's text, account).
py::tuple batch(std::optional<F64Array> X, std::optional<I64Array> labels, std::optional<I64Array> probe_labels,
                long long C, const std::string& model_text, const py::dict& options, const py::object& progress) {
  api::BatchRequest rq;
  rq.model_name = "Python Model";
  std::string sample, validate = "0", margin = "0";
  long count = 1;
  std::uint64_t seed = 1;
  bool balanced = false;
  read_options("batch", options, [&](const std::string& key, const py::handle& value) {
    if (key == "arith") rq.arith = batch_arith(value.cast<std::string>());
    else if (key == "device") rq.device = device_choice(value.cast<std::string>());
    else if (key == "validate") validate = value.cast<std::string>();
    else if (key == "certify") rq.certify = value.cast<bool>();
    else if (key == "escalate") rq.escalate = value.cast<bool>();
    else if (key == "max_prec") rq.max_prec = value.cast<long>();
    else if (key == "threads") rq.threads = value.cast<int>();
    else if (key == "final_only") rq.final_only = value.cast<bool>();
    else if (key == "sample") sample = value.cast<std::string>();
    else if (key == "prompts") count = value.cast<long>();
    else if (key == "seed") seed = value.cast<std::uint64_t>();
    else if (key == "balanced") balanced = value.cast<bool>();
    else if (key == "margin") margin = value.cast<std::string>();
    else if (key == "chunk") rq.chunk = value.cast<int>(), rq.chunk_given = true;
    else return false;
    return true;
  });
  if (rq.max_prec < 64 || rq.max_prec > 65536) throw std::invalid_argument("max_prec: expected 64 to 65536 bits");
  require_threads_chunk(rq.threads, rq.chunk);
  if (validate == "all") rq.validate = api::kValidateAll;
  else {
    std::size_t used = 0;
    long v = -1;
    try {
      v = std::stol(validate, &used);
    } catch (const std::exception&) {
    }
    if (used != validate.size() || v < 0) throw std::invalid_argument("validate " + validate + ": expected a count >= 0 or all");
    rq.validate = v;
  }
  rq.threads = api::default_threads(rq.threads);
  std::unique_ptr<gpu::PromptSource> source;
  if (!sample.empty()) {
    if (X) throw std::invalid_argument("batch: give prompt arrays or sample, not both");
    api::InstanceOptions s;
    s.sample = sample, s.seed = seed, s.balanced = balanced, s.margin = margin;
    if (count < 1 || count > 1000000000L) throw std::invalid_argument("prompts: expected 1 to 10^9");
    source = gpu::prompts_from_sampler(api::sampler_options(s), count, rq.threads);
    rq.prompts.source = source.get();
    rq.source = {{"sample", sample}, {"seed", seed}, {"balanced", balanced}, {"margin", margin}};
  } else {
    if (!X || !labels) throw std::invalid_argument("batch: give X[B, N+1, d] and labels[B, N], or sample");
    rq.prompts.list = prompts_of_arrays(*X, *labels, probe_labels, C);
    rq.source = {{"prompt_file", "Python arrays"}};
  }
  rq.model = parse_model(parse_json_text(model_text, "model"), "model");
  const api::BatchResult r = run_call([&](const api::Control& c) { return api::batch(rq, c); }, progress);
  return py::make_tuple(r.exit_status, r.json_text, r.account);
}

// `sample -d d -C C -N N --count K --seed S`: prompt k with seed S + k, as arrays:
// X[K, N+1, d] (the probe last), labels[K, N], probe_labels[K]. Every number the
// sampler draws is a double, so the arrays hold the prompts exactly.
py::tuple sample(int d, int C, int N, long count, std::uint64_t seed, bool balanced, const std::string& margin) {
  if (count < 1 || count > 1000000) throw std::invalid_argument("count: expected 1 to 10^6");
  api::SampleRequest rq;
  api::InstanceOptions s;
  s.sample = std::to_string(d) + "," + std::to_string(C) + "," + std::to_string(N);
  s.seed = seed, s.balanced = balanced, s.margin = margin;
  rq.sampler = api::sampler_options(s);
  rq.count = static_cast<int>(count);
  const api::SampleResult r = run_call([&](const api::Control& c) { return api::sample(rq, c); }, py::none());
  F64Array X({static_cast<py::ssize_t>(count), static_cast<py::ssize_t>(N + 1), static_cast<py::ssize_t>(d)});
  I64Array labels({static_cast<py::ssize_t>(count), static_cast<py::ssize_t>(N)});
  I64Array probe_labels({static_cast<py::ssize_t>(count)});
  double* x = X.mutable_data();
  long long* l = labels.mutable_data();
  long long* pl = probe_labels.mutable_data();
  auto put = [](const Rational& q) {
    const double v = nearest_double(q);
    if (rational_from_double(v) != q) throw std::logic_error("the sampler drew a number that is not a double");
    return v;
  };
  for (long k = 0; k < count; ++k) {
    const Prompt& p = r.prompts.at(k);
    double* xk = x + static_cast<std::size_t>(k) * (N + 1) * d;
    for (int i = 0; i < N; ++i)
      for (int j = 0; j < d; ++j) xk[static_cast<std::size_t>(i) * d + j] = put(p.X(i, j));
    for (int j = 0; j < d; ++j) xk[static_cast<std::size_t>(N) * d + j] = put(p.probe[j]);
    for (int i = 0; i < N; ++i) l[static_cast<std::size_t>(k) * N + i] = p.labels[i];
    pl[k] = p.probe_label.value_or(-1);
  }
  return py::make_tuple(X, labels, probe_labels);
}

// A batch file's prompts (docs/formats.md) from its JSON text.
std::vector<Prompt> prompt_list(const std::string& text, const std::string& name) {
  return parse_prompts(parse_json_text(text, name), name);
}

// `compare --model A --against B`: (exit status, the comparison file's text, account).
py::tuple compare(const std::string& a_text, const std::string& b_text, const std::string& prompts_text,
                  std::optional<std::string> predictions_text, const py::dict& options, const py::object& progress) {
  api::CompareRequest rq;
  rq.a = parse_model(parse_json_text(a_text, "model"), "model");
  rq.b = parse_model(parse_json_text(b_text, "against"), "against");
  rq.a_name = "Python Model", rq.b_name = "Python Model (against)", rq.prompts_name = "Python prompts";
  rq.prompts.list = prompt_list(prompts_text, "prompts");
  std::string predictions_file;
  read_options("compare", options, [&](const std::string& key, const py::handle& value) {
    if (key == "arith") rq.arith = batch_arith(value.cast<std::string>());
    else if (key == "device") rq.device = device_choice(value.cast<std::string>());
    else if (key == "validate") rq.validate = value.cast<long>();
    else if (key == "certify") rq.certify = value.cast<bool>();
    else if (key == "escalate") rq.escalate = value.cast<bool>();
    else if (key == "baselines") rq.baselines = value.cast<bool>();
    else if (key == "max_prec") rq.max_prec = value.cast<long>();
    else if (key == "threads") rq.threads = value.cast<int>();
    else if (key == "min_agreement") rq.min_agreement = value.cast<double>();
    else if (key == "min_prediction_agreement") rq.min_prediction_agreement = value.cast<double>();
    else if (key == "predictions_file") predictions_file = value.cast<std::string>();
    else return false;
    return true;
  });
  if (rq.max_prec < 64 || rq.max_prec > 65536) throw std::invalid_argument("max_prec: expected 64 to 65536 bits");
  require_threads_chunk(rq.threads, rq.chunk);
  rq.threads = api::default_threads(rq.threads);
  if (rq.prompts.list.empty()) throw std::invalid_argument("compare: no prompts");
  const long B = static_cast<long>(rq.prompts.list.size());
  const int C = rq.prompts.list.front().C;
  if (predictions_text) {
    rq.exported = api::read_predictions(parse_json_text(*predictions_text, "predictions"), "predictions", B, C);
    rq.exported_name = "Python predictions";
  } else if (!predictions_file.empty()) {
    rq.exported = api::read_predictions(predictions_file, B, C);
    rq.exported_name = predictions_file;
  }
  const api::CompareResult r = run_call([&](const api::Control& c) { return api::compare(rq, c); }, progress);
  return py::make_tuple(r.exit_status, r.json_text, r.account);
}

// `extract --model M [--d D --C C] [--max-residual R]`: (exit status, the extraction
// file's text, the reduced model's text, the full model's text, account).
py::tuple extract(const std::string& model_text, int d, int C, std::optional<double> max_residual,
                  const py::object& progress) {
  api::ExtractRequest rq;
  rq.model = parse_model(parse_json_text(model_text, "model"), "model");
  rq.model_name = "Python Model";
  rq.d = d, rq.C = C, rq.max_residual = max_residual;
  const api::ExtractResult r = run_call([&](const api::Control& c) { return api::extract(rq, c); }, progress);
  return py::make_tuple(r.exit_status, r.json_text, r.reduced_text, r.full_text, r.account);
}

// `sweep --claim CLAIM --grid NAME=LO:HI:COUNT ...`: (exit status, the sweep's JSON
// text, its CSV text, account).
// The prompts: a batch file's JSON text (`prompts_text`) or path (`prompt_file`), or neither (options' sample).
py::tuple sweep(const std::string& claim, const std::vector<std::string>& grid, std::optional<std::string> model_text,
                std::optional<std::string> prompts_text, std::optional<std::string> prompt_file, const py::dict& options,
                const py::object& progress) {
  api::SweepRequest rq;
  rq.claim = claim;
  for (const auto& g : grid) rq.grid.push_back(api::parse_sweep_axis(g));
  if (model_text) rq.model = parse_model(parse_json_text(*model_text, "model"), "model");
  if (prompts_text) rq.prompt_list = prompt_list(*prompts_text, "prompts"), rq.prompt_list_name = "Python prompts";
  if (prompt_file) rq.prompt_file = *prompt_file;
  read_options("sweep", options, [&](const std::string& key, const py::handle& value) {
    if (key == "metric") rq.metric = value.cast<std::string>();
    else if (key == "sample") rq.sample = value.cast<std::string>();
    else if (key == "prompts") rq.prompts = value.cast<long>();
    else if (key == "seed") rq.seed = value.cast<std::uint64_t>();
    else if (key == "threads") rq.threads = value.cast<long>();
    else if (key == "prec") rq.prec = value.cast<long>();
    else if (key == "max_prec") rq.max_prec = value.cast<long>();
    else if (key == "counterexamples") rq.counterexamples = value.cast<std::string>();
    else return false;
    return true;
  });
  rq.prompt_flag = "prompts", rq.count_flag = "count";
  const api::SweepResult r = run_call([&](const api::Control& c) { return api::sweep(rq, c); }, progress);
  return py::make_tuple(r.exit_status, r.json.dump(1), r.csv, r.account);
}

// A user's float run against certified predictions: (rows as a dict of columns,
// summary dict, account, exit status).
py::tuple validate(const std::string& model_text, const std::string& prompts_text, const std::vector<int>& predictions,
                   const std::vector<double>& logits, const py::dict& options, const py::object& progress) {
  api::ValidateRequest rq;
  rq.model = parse_model(parse_json_text(model_text, "model"), "model");
  rq.prompts.list = prompt_list(prompts_text, "prompts");
  rq.predictions = predictions;
  rq.logits = logits;
  read_options("validate", options, [&](const std::string& key, const py::handle& value) {
    if (key == "threads") rq.threads = value.cast<int>();
    else if (key == "escalate") rq.escalate = value.cast<bool>();
    else if (key == "max_prec") rq.max_prec = value.cast<long>();
    else return false;
    return true;
  });
  if (rq.max_prec < 64 || rq.max_prec > 65536) throw std::invalid_argument("max_prec: expected 64 to 65536 bits");
  require_threads_chunk(rq.threads, rq.chunk);
  rq.threads = api::default_threads(rq.threads);
  const api::ValidateResult r = run_call([&](const api::Control& c) { return api::validate(rq, c); }, progress);
  const std::size_t B = r.rows.size();
  py::array_t<long long> prompt(B), label(B), certified(B), float_class(B);
  py::array_t<bool> flip(B);
  F64Array margin_lo(B), margin_hi(B), float_margin(B);
  for (std::size_t k = 0; k < B; ++k) {
    const api::ValidateRow& row = r.rows[k];
    prompt.mutable_data()[k] = row.prompt;
    label.mutable_data()[k] = row.label.value_or(-1);
    certified.mutable_data()[k] = row.certified.value_or(-1);
    float_class.mutable_data()[k] = row.float_class;
    flip.mutable_data()[k] = row.flip;
    margin_lo.mutable_data()[k] = row.margin_lo;
    margin_hi.mutable_data()[k] = row.margin_hi;
    float_margin.mutable_data()[k] = row.float_margin.value_or(std::nan(""));
  }
  py::dict rows;
  rows["prompt"] = prompt, rows["label"] = label, rows["certified"] = certified, rows["float_class"] = float_class;
  rows["flip"] = flip, rows["margin_lo"] = margin_lo, rows["margin_hi"] = margin_hi;
  if (!rq.logits.empty()) rows["float_margin"] = float_margin;
  const api::ValidateSummary& s = r.summary;
  py::dict summary;
  summary["prompts"] = s.prompts, summary["certified"] = s.certified, summary["undecided"] = s.prompts - s.certified;
  summary["flips"] = s.flips, summary["labelled"] = s.labelled, summary["correct"] = s.correct;
  summary["certified_accuracy"] = s.certified_accuracy ? py::object(py::float_(*s.certified_accuracy)) : py::none();
  return py::make_tuple(rows, summary, r.account, r.exit_status);
}

}  // namespace

PYBIND11_MODULE(_core, m) {
  m.doc() = "iclcert's C++ library (see the iclcert package for the Python interface)";
  install_gmp_allocation();  // GMP out of memory: MemoryError, not an abort of the interpreter
  static py::exception<InputError> input_error(m, "InputError", PyExc_ValueError);
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const InputError& e) {
      input_error(e.what());
    } catch (const py::cast_error& e) {  // an argument of another type: TypeError, not RuntimeError
      PyErr_SetString(PyExc_TypeError, e.what());
    } catch (const api::Cancelled&) {  // a cancelled call (_call.hpp) without a pending signal
      PyErr_SetNone(PyExc_KeyboardInterrupt);
    }
  });
  m.attr("__version__") = ICLCERT_VERSION;
  m.def("default_prompt", [] { return prompt_to_json(api::default_prompt()).dump(1); });
  m.def("default_model", [] { return model_to_json(api::default_model()).dump(1); });
  m.def("prompt_from_arrays", &prompt_from_arrays);
  m.def("canonical_prompt", &canonical_prompt);
  m.def("canonical_model", &canonical_model);
  m.def("dense_model", &dense_model);
  // Long calls: `progress` is the receiver of _call.hpp (None: none).
  auto progress = py::arg("progress") = py::none();
  m.def("run", &run, py::arg("prompt"), py::arg("model"), py::arg("arith"), progress);
  m.def("check", &check, py::arg("claim"), py::arg("prompt"), py::arg("model"), py::arg("options"), progress);
  m.def("replay", &replay, py::arg("verdict"), progress);
  m.def("batch", &batch, py::arg("X"), py::arg("labels"), py::arg("probe_labels"), py::arg("C"), py::arg("model"),
        py::arg("options"), progress);
  m.def("sample", &sample);
  m.def("compare", &compare, py::arg("a"), py::arg("b"), py::arg("prompts"), py::arg("predictions"),
        py::arg("options"), progress);
  m.def("extract", &extract, py::arg("model"), py::arg("d"), py::arg("C"), py::arg("max_residual"), progress);
  m.def("sweep", &sweep, py::arg("claim"), py::arg("grid"), py::arg("model"), py::arg("prompts"), py::arg("prompt_file"),
        py::arg("options"), progress);
  m.def("validate", &validate, py::arg("model"), py::arg("prompts"), py::arg("predictions"), py::arg("logits"),
        py::arg("options"), progress);
}
