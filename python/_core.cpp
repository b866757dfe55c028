// iclcert._core: the C++ library for Python (pybind11). Thin on purpose: every
// number is computed by the library (numerics/, claims/, gpu/) through the same
// functions the `iclcert` command calls, and comes back as the JSON text the
// command writes (docs/formats.md), which iclcert/__init__.py turns into pandas
// and NumPy objects. Nothing of the math is written here or in Python.
//
// Numbers in: a NumPy float64 enters as its exact rational value
// (rational_from_double), as a JSON number does in a file. Long calls release the
// GIL; the library has no cancellation hook, so Ctrl-C is handled in Python
// (iclcert/_calls.py): the call returns KeyboardInterrupt at once and the abandoned
// work finishes in the background before the next call starts.
#include "api/arithmetic.hpp"
#include "cli/batch_command.hpp"
#include "cli/check_command.hpp"
#include "cli/compare_command.hpp"
#include "cli/extract_command.hpp"
#include "api/instance.hpp"
#include "cli/run_command.hpp"
#if ICLCERT_PYTHON_FUZZ
#include "cli/fuzz_command.hpp"
#endif
#include "gpu/batch_run.hpp"
#include "io/input_error.hpp"
#include "io/json_reader.hpp"
#include "io/limits.hpp"
#include "io/model_io.hpp"
#include "io/prompt_io.hpp"
#include "io/trace_io.hpp"
#include "numerics/sampler.hpp"

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <CLI/CLI.hpp>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

// `fuzz` in this process needs RapidCheck linked into a shared module, and Debian's
// librapidcheck.a is not position-independent ("recompile with -fPIC" at link), so
// by default the package runs fuzz through the iclcert executable (iclcert/__init__.py)
// and no object of iclcert_cli that uses RapidCheck is pulled in here.
#ifndef ICLCERT_PYTHON_FUZZ
#define ICLCERT_PYTHON_FUZZ 0
#endif
#ifndef ICLCERT_VERSION  // python/CMakeLists.txt passes the project's version
#define ICLCERT_VERSION "unknown"
#endif

namespace py = pybind11;
using namespace iclcert;

namespace {

using F64Array = py::array_t<double, py::array::c_style | py::array::forcecast>;
using I64Array = py::array_t<long long, py::array::c_style | py::array::forcecast>;

// A log that the library prints into (open_memstream), returned as text.
class Log {
 public:
  Log() : file_(open_memstream(&buf_, &size_)) {
    if (!file_) throw std::runtime_error("open_memstream failed");
  }
  ~Log() {
    if (file_) std::fclose(file_);
    std::free(buf_);
  }
  std::FILE* file() { return file_; }
  std::string text() {
    std::fflush(file_);
    return std::string(buf_, size_);
  }

 private:
  char* buf_ = nullptr;
  std::size_t size_ = 0;
  std::FILE* file_ = nullptr;
};

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

// The model fitted to the prompt as every command does (load_instance).
void fit(Model& m, const Prompt& p) {
  require_model_fits(m, p.d, p.C, "model", "the prompt");
  fill_split(m, p.d, p.C);
}

// `iclcert run --arith A --json`: the trace file's text.
std::string run(const std::string& prompt_text, const std::string& model_text, const std::string& arith) {
  Prompt p = single_prompt(prompt_text, "prompt");
  Model m = parse_model(parse_json_text(model_text, "model"), "model");
  fit(m, p);
  const cli::Arithmetic a = cli::parse_arithmetic(arith);
  py::gil_scoped_release release;
  return cli::with_scalar(a, [&]<Scalar T>() {
    Trace<T> trace = run_recursion<T>(p, m);
    cli::require_finite_trace(trace, a);
    return trace_to_json(trace, a.label()).dump(1);
  });
}

// `iclcert check --claim ...`: (exit status, verdict file text, account).
py::tuple check(const std::string& claim, std::optional<std::string> prompt_text, std::optional<std::string> model_text,
                const py::dict& options) {
  cli::CheckOptions o;
  o.claim = claim;
  for (const auto& [key_obj, value] : options) {
    const std::string key = py::str(key_obj);
    try {
      if (key == "arith") o.arith = value.cast<std::string>();
      else if (key == "layers") o.layers = value.cast<std::string>();
      else if (key == "metric") o.metric = value.cast<std::string>();
      else if (key == "prec") o.prec = value.cast<long>();
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
      else throw std::invalid_argument("check: unknown option " + key);
    } catch (const py::cast_error&) {  // a value of another type, or an integer beyond the C++ type
      throw py::type_error("check: " + key + ": " + std::string(py::str(py::repr(value))).substr(0, 40) +
                           " is not of the expected type or range");
    }
  }
  if (o.metric != "fisher" && o.metric != "gap") throw std::invalid_argument("metric " + o.metric + ": expected fisher or gap");
  cli::Instance in;
  if (!o.instance.sample.empty()) {
    if (prompt_text) throw std::invalid_argument("check: give a prompt or sample, not both");
    in.prompt = sample_prompt(cli::sampler_options(o.instance));
    in.prompt_source = "sampled d,C,N = " + o.instance.sample + ", seed " + std::to_string(o.instance.seed);
  } else if (prompt_text) {
    in.prompt = single_prompt(*prompt_text, "prompt");
    in.prompt_source = "Python Prompt";
  } else {
    in.prompt = cli::default_prompt();
    in.prompt_source = "embedded default (examples/default_prompt.json)";
  }
  in.model = model_text ? parse_model(parse_json_text(*model_text, "model"), "model") : cli::default_model();
  fit(in.model, in.prompt);
  if (o.claim == "C1") in.prompt_source = std::to_string(o.samples) + " prompts of " + in.prompt_source;
  Log log;
  const cli::CheckRun r = [&] {
    py::gil_scoped_release release;  // released for the work only: make_tuple needs the GIL
    return cli::check_claim(o, in.prompt, in.model, in.prompt_source, log.file());
  }();
  return py::make_tuple(claims::exit_status(r.report.verdict), r.verdict.dump(1), log.text());
}

// `iclcert check --replay FILE`: (exit status, account).
py::tuple replay(const std::string& verdict_file) {
  cli::CheckOptions o;
  o.replay = verdict_file;
  Log log;
  const int status = [&] {
    py::gil_scoped_release release;
    return cli::replay_verdict(o, log.file());
  }();
  return py::make_tuple(status, log.text());
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

// `iclcert batch` over prompts given as arrays (X[B, N+1, d]: rows 0..N-1 the
// training points, row N the probe; labels[B, N]; probe_labels[B] or none), or
// sampled (`sample` "d,C,N" with count and seed, as `batch --sample`).
py::tuple batch(std::optional<F64Array> X, std::optional<I64Array> labels, std::optional<I64Array> probe_labels,
                long long C, const std::string& model_text, const py::dict& options) {
  cli::BatchOptions o;
  o.no_progress = true;
  o.model_file = "Python Model";
  for (const auto& [key_obj, value] : options) {
    const std::string key = py::str(key_obj);
    try {
      if (key == "arith") o.arith = value.cast<std::string>();
      else if (key == "device") o.device = value.cast<std::string>();
      else if (key == "validate") o.validate = value.cast<std::string>();
      else if (key == "certify") o.certify = value.cast<bool>();
      else if (key == "escalate") o.no_escalate = !value.cast<bool>();
      else if (key == "max_prec") o.max_prec = value.cast<long>();
      else if (key == "threads") o.threads = value.cast<int>();
      else if (key == "final_only") o.final_only = value.cast<bool>();
      else if (key == "sample") o.sample = value.cast<std::string>();
      else if (key == "prompts") o.prompts = value.cast<long>();
      else if (key == "seed") o.seed = value.cast<std::uint64_t>();
      else if (key == "balanced") o.balanced = value.cast<bool>();
      else if (key == "margin") o.margin = value.cast<std::string>();
      else if (key == "chunk") o.chunk = value.cast<int>(), o.chunk_given = true;
      else throw std::invalid_argument("batch: unknown option " + key);
    } catch (const py::cast_error&) {  // a value of another type, or an integer beyond the C++ type
      throw py::type_error("batch: " + key + ": " + std::string(py::str(py::repr(value))).substr(0, 40) +
                           " is not of the expected type or range");
    }
  }
  if (o.max_prec < 64 || o.max_prec > 65536) throw std::invalid_argument("max_prec: expected 64 to 65536 bits");
  // The command line's ranges (cli/batch_command.cpp): --threads 0..1024, --chunk 1..2^20.
  if (o.threads < 0 || o.threads > 1024) throw std::invalid_argument("threads: expected 0 (every core) to 1024");
  if (o.chunk < 1 || o.chunk > (1 << 20)) throw std::invalid_argument("chunk: expected 1 to 2^20 prompts");
  const int threads = o.threads > 0 ? o.threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  std::unique_ptr<gpu::PromptSource> source;
  Json source_json;
  if (!o.sample.empty()) {
    if (X) throw std::invalid_argument("batch: give prompt arrays or sample, not both");
    cli::InstanceOptions s;
    s.sample = o.sample, s.seed = o.seed, s.balanced = o.balanced, s.margin = o.margin;
    if (o.prompts < 1 || o.prompts > 1000000000L) throw std::invalid_argument("prompts: expected 1 to 10^9");
    source = gpu::prompts_from_sampler(cli::sampler_options(s), o.prompts, threads);
    source_json = {{"sample", o.sample}, {"seed", o.seed}, {"balanced", o.balanced}, {"margin", o.margin}};
  } else {
    if (!X || !labels) throw std::invalid_argument("batch: give X[B, N+1, d] and labels[B, N], or sample");
    if (X->ndim() != 3 || labels->ndim() != 2 || X->shape(0) != labels->shape(0) || X->shape(1) != labels->shape(1) + 1)
      throw std::invalid_argument("batch: expected X of shape (B, N+1, d) and labels of shape (B, N)");
    require_batch_sizes(X->shape(0), labels->shape(1), X->shape(2), C);
    const long B = static_cast<long>(X->shape(0));
    const int N = static_cast<int>(labels->shape(1)), d = static_cast<int>(X->shape(2));
    if (probe_labels && (probe_labels->ndim() != 1 || probe_labels->shape(0) != B))
      throw std::invalid_argument("batch: probe_labels must have shape (B,)");
    std::vector<Prompt> prompts;
    prompts.reserve(B);
    for (long b = 0; b < B; ++b) {
      const double* x = X->data() + static_cast<std::size_t>(b) * (N + 1) * d;
      std::optional<long long> pl;  // -1: this prompt has none (as in Samples)
      if (probe_labels && probe_labels->data()[b] != -1) pl = probe_labels->data()[b];
      prompts.push_back(prompt_of(x, labels->data() + static_cast<std::size_t>(b) * N, x + static_cast<std::size_t>(N) * d,
                                  pl, N, d, static_cast<int>(C), "prompt " + std::to_string(b)));
    }
    source = gpu::prompts_from_list(std::move(prompts), "prompts");
    source_json = {{"prompt_file", "Python arrays"}};
  }
  const Model model = parse_model(parse_json_text(model_text, "model"), "model");
  require_model_fits(model, source->d, source->C, "model", "the prompts");
  Log log;
  const cli::BatchRun r = [&] {
    py::gil_scoped_release release;
    return cli::run_batch_options(o, *source, model, source_json, threads, log.file());
  }();
  return py::make_tuple(r.status, r.json_text, log.text());
}

// `iclcert sample -d d -C C -N N --count K --seed S`: prompt k with seed S + k, as
// arrays: X[K, N+1, d] (the probe last), labels[K, N], probe_labels[K]. Every
// number the sampler draws is a double, so the arrays hold the prompts exactly.
py::tuple sample(int d, int C, int N, long count, std::uint64_t seed, bool balanced, const std::string& margin) {
  cli::InstanceOptions s;
  s.sample = std::to_string(d) + "," + std::to_string(C) + "," + std::to_string(N);
  s.seed = seed, s.balanced = balanced, s.margin = margin;
  SamplerOptions base = cli::sampler_options(s);
  if (count < 1 || count > 1000000) throw std::invalid_argument("count: expected 1 to 10^6");
  F64Array X({static_cast<py::ssize_t>(count), static_cast<py::ssize_t>(N + 1), static_cast<py::ssize_t>(d)});
  I64Array labels({static_cast<py::ssize_t>(count), static_cast<py::ssize_t>(N)});
  I64Array probe_labels({static_cast<py::ssize_t>(count)});
  double* x = X.mutable_data();
  long long* l = labels.mutable_data();
  long long* pl = probe_labels.mutable_data();
  {
  py::gil_scoped_release release;  // the arrays are written, not resized: no Python object is touched
  for (long k = 0; k < count; ++k) {
    SamplerOptions o = base;
    o.seed = seed + static_cast<std::uint64_t>(k);
    const Prompt p = sample_prompt(o);
    auto put = [](const Rational& r) {
      const double v = nearest_double(r);
      if (rational_from_double(v) != r) throw std::logic_error("the sampler drew a number that is not a double");
      return v;
    };
    double* xk = x + static_cast<std::size_t>(k) * (N + 1) * d;
    for (int i = 0; i < N; ++i)
      for (int j = 0; j < d; ++j) xk[static_cast<std::size_t>(i) * d + j] = put(p.X(i, j));
    for (int j = 0; j < d; ++j) xk[static_cast<std::size_t>(N) * d + j] = put(p.probe[j]);
    for (int i = 0; i < N; ++i) l[static_cast<std::size_t>(k) * N + i] = p.labels[i];
    pl[k] = p.probe_label.value_or(-1);
  }
  }
  return py::make_tuple(X, labels, probe_labels);
}

// `iclcert COMMAND ARGS...` for compare, extract and fuzz, in this process: the
// command's own code (cli/*_command.cpp), files in and out as on the command line.
// Returns the exit status; the account goes to this process's stdout/stderr.
int command(const std::vector<std::string>& args) {
  if (args.empty()) throw std::invalid_argument("command: no arguments");
  CLI::App app{"iclcert"};
  app.require_subcommand(1, 1);
  std::map<std::string, std::function<int()>> actions;
  actions["compare"] = cli::register_compare(app);
  actions["extract"] = cli::register_extract(app);
#if ICLCERT_PYTHON_FUZZ
  actions["fuzz"] = cli::register_fuzz(app);
#endif
  if (!actions.contains(args[0])) throw std::invalid_argument("command " + args[0] + ": not available here");
  std::vector<std::string> argv_text = {"iclcert"};
  argv_text.insert(argv_text.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : argv_text) argv.push_back(a.data());
  py::gil_scoped_release release;
  int status = 0;
  try {
    app.parse(static_cast<int>(argv.size()), argv.data());
    status = actions.at(args[0])();
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "iclcert: %s\n", e.what());
    status = 2;
  } catch (const InputError& e) {
    std::fprintf(stderr, "iclcert: %s\n", e.what());
    status = 2;
  } catch (const std::invalid_argument& e) {
    std::fprintf(stderr, "iclcert: %s\n", e.what());
    status = 2;
  }
  std::fflush(stdout);
  std::fflush(stderr);
  return status;
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
    }
  });
  m.attr("__version__") = ICLCERT_VERSION;
  m.def("default_prompt", [] { return prompt_to_json(cli::default_prompt()).dump(1); });
  m.def("default_model", [] { return model_to_json(cli::default_model()).dump(1); });
  m.def("prompt_from_arrays", &prompt_from_arrays);
  m.def("canonical_prompt", &canonical_prompt);
  m.def("canonical_model", &canonical_model);
  m.def("dense_model", &dense_model);
  m.def("run", &run);
  m.def("check", &check);
  m.def("replay", &replay);
  m.def("batch", &batch);
  m.def("sample", &sample);
  m.def("command", &command);
  m.def("flush", [] {
    std::fflush(stdout);
    std::fflush(stderr);
  });
#if ICLCERT_PYTHON_FUZZ
  m.attr("has_fuzz") = true;
#else
  m.attr("has_fuzz") = false;
#endif
}
