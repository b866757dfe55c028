#include "gpu/batch_run.hpp"

#include "gpu/batch_model.hpp"
#include "gpu/parallel.hpp"
#include "gpu/progress.hpp"
#include "gpu/thread_cache.hpp"
#include "io/input_error.hpp"
#include "numerics/interval_arb.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstdio>
#include <limits>
#include <optional>
#include <stdexcept>

namespace iclcert::gpu {
namespace {

template <class T>
void prepare(PromptBlock<T>& block, int d, int C, int N, int count) {
  block.d = d;
  block.C = C;
  block.N = N;
  block.resize(count);
}

// The first input number of a list of prompts that rounds to an infinity in each
// float type, as a field of the batch file ("prompts[3].X[1][0]") and its value.
struct NonFinite {
  std::string field;
  Rational value;
};

class ListSource : public PromptSource {
 public:
  ListSource(std::vector<Prompt> prompts, std::string file) : prompts_(std::move(prompts)), file_(std::move(file)) {
    d = prompts_[0].d;
    C = prompts_[0].C;
    N = prompts_[0].N;
    find_non_finite();
  }
  long size() const override { return static_cast<long>(prompts_.size()); }
  void fill(long first, int count, PromptBlock<float>& b) const override { fill_block(first, count, b); }
  void fill(long first, int count, PromptBlock<double>& b) const override { fill_block(first, count, b); }
  Prompt exact(long k) const override { return prompts_[k]; }
  void require_finite(BatchArith arith) const override {
    const std::optional<NonFinite>& bad = arith == BatchArith::float32 ? float32_ : float64_;
    if (bad)
      throw InputError(file_, bad->field,
                       describe_rational(bad->value) + " is not a finite " + to_string(arith) +
                           " (it rounds to infinity); iclcert run --arith interval:BITS takes it");
  }

 private:
  // One pass at construction. |p/q| < 2^(bits(p) - bits(q) + 1), so a number whose
  // bits say below 2^127 is finite in both types without rounding it; the others
  // are rounded to double, and to float where the double is beyond float's largest.
  void find_non_finite() {
    auto check = [&](const Rational& v, auto field) {
      const mpq_srcptr q = v.backend().data();
      if (static_cast<long>(mpz_sizeinbase(mpq_numref(q), 2)) - static_cast<long>(mpz_sizeinbase(mpq_denref(q), 2)) <
          127)
        return;
      const double x = nearest_double(v);
      if (std::isfinite(x) && std::abs(x) < std::numeric_limits<float>::max()) return;
      if (!float32_ && !std::isfinite(nearest_float(v))) float32_ = NonFinite{field(), v};
      if (!float64_ && !std::isfinite(x)) float64_ = NonFinite{field(), v};
    };
    for (std::size_t k = 0; k < prompts_.size() && !float64_; ++k) {
      const Prompt& p = prompts_[k];
      const std::string at = "prompts[" + std::to_string(k) + "].";
      for (int r = 0; r < N; ++r)
        for (int c = 0; c < d; ++c)
          check(p.X(r, c), [&] { return at + "X[" + std::to_string(r) + "][" + std::to_string(c) + "]"; });
      for (int c = 0; c < d; ++c) check(p.probe[c], [&] { return at + "probe[" + std::to_string(c) + "]"; });
    }
  }
  template <class T>
  void fill_block(long first, int count, PromptBlock<T>& b) const {
    prepare(b, d, C, N, count);
    for (int i = 0; i < count; ++i) {
      const Prompt& p = prompts_[first + i];
      for (int r = 0; r < N; ++r) {
        for (int k = 0; k < d; ++k) b.X[(static_cast<std::size_t>(i) * N + r) * d + k] = round_to<T>(p.X(r, k));
        b.labels[static_cast<std::size_t>(i) * N + r] = p.labels[r];
      }
      for (int k = 0; k < d; ++k) b.probe[static_cast<std::size_t>(i) * d + k] = round_to<T>(p.probe[k]);
      b.probe_label[i] = p.probe_label ? *p.probe_label : -1;
    }
  }
  std::vector<Prompt> prompts_;
  std::string file_;
  std::optional<NonFinite> float32_, float64_;  // a number beyond float64 is beyond float32 too
};

class SamplerSource : public PromptSource {
 public:
  SamplerSource(const SamplerOptions& base, long count, int threads) : base_(base), count_(count), threads_(threads) {
    d = base.d;
    C = base.C;
    N = base.N;
    sample(0);  // invalid sizes throw here, before any work
  }
  long size() const override { return count_; }
  void fill(long first, int count, PromptBlock<float>& b) const override { fill_block(first, count, b); }
  void fill(long first, int count, PromptBlock<double>& b) const override { fill_block(first, count, b); }
  Prompt exact(long k) const override { return to_prompt(sample(k)); }
  bool inputs_are_doubles() const override { return true; }
  const SamplerOptions* sampler() const override { return &base_; }

 private:
  DoublePrompt sample(long k) const {
    SamplerOptions o = base_;
    o.seed = base_.seed + static_cast<std::uint64_t>(k);
    return sample_prompt_doubles(o);
  }
  template <class T>
  void fill_block(long first, int count, PromptBlock<T>& b) const {
    prepare(b, d, C, N, count);
    auto work = [&](int begin, int end) {
      for (int i = begin; i < end; ++i) {
        const DoublePrompt p = sample(first + i);
        for (std::size_t e = 0; e < p.X.size(); ++e) b.X[static_cast<std::size_t>(i) * N * d + e] = static_cast<T>(p.X[e]);
        for (int r = 0; r < N; ++r) b.labels[static_cast<std::size_t>(i) * N + r] = p.labels[r];
        for (int k = 0; k < d; ++k) b.probe[static_cast<std::size_t>(i) * d + k] = static_cast<T>(p.probe[k]);
        b.probe_label[i] = p.probe_label ? *p.probe_label : -1;
      }
    };
    const int threads = std::max(1, std::min(threads_, count));
    run_workers(threads, [&](int t) {
      const int begin = static_cast<int>(static_cast<long>(count) * t / threads);
      const int end = static_cast<int>(static_cast<long>(count) * (t + 1) / threads);
      if (t == 0) return work(begin, end);  // the calling thread keeps its caches
      const ThreadCacheRelease release;
      work(begin, end);
    });
  }
  SamplerOptions base_;
  long count_;
  int threads_;
};

// The first K prompts against Arb enclosures at 256 bits, on `threads` threads
// (each with its own working precision; the report merges counts and maxima,
// which do not depend on the split).
template <class T>
ValidationReport validate_block(const PromptSource& source, const Model& model, const ModelView<double>& bound_model,
                                double input_u, long first, int count, const BlockOutput<T>& out, int L1,
                                int threads) {
  const long per_state = static_cast<long>(L1) * (source.N + 1) * (source.d + source.C);
  std::vector<ValidationReport> parts(std::max(1, std::min(threads, count)));
  auto work = [&](std::size_t part, int begin, int end) {
    const ThreadCacheRelease release;  // destroyed last, after every ball of this thread
    WorkingPrecision precision(256);
    for (int i = begin; i < end; ++i)
      validate_prompt<T, ArbBall>(source.exact(first + i), model, bound_model, input_u,
                                  out.states.data() + i * per_state,
                                  out.records.data() + static_cast<long>(i) * L1, parts[part]);
  };
  const int n = static_cast<int>(parts.size());
  run_workers(
      n,
      [&](int t) {
        const long begin = static_cast<long>(count) * t / n, end = static_cast<long>(count) * (t + 1) / n;
        work(t, static_cast<int>(begin), static_cast<int>(end));
      },
      false);
  ValidationReport merged;
  for (const auto& p : parts) merged.merge(p);
  return merged;
}

// Whether the device can draw these prompts itself: the fast sampler's case.
bool device_can_sample(const PromptSource& source) {
  const SamplerOptions* o = source.sampler();
  if (!o || o->margin != 0 || o->balanced || o->C > 256) return false;
  const char* env = std::getenv("ICLCERT_CUDA_HOST_SAMPLING");  // for measurements: sample on the host
  return !(env && *env && std::string(env) != "0");
}

// One filled block through the chosen backend, outside the CUDA pipeline: the
// validated chunks, and every chunk of a distributed run.
template <typename T>
void run_block(const ModelView<T>& view, const PromptBlock<T>& block, Detail detail, int threads, bool use_cuda,
               BlockOutput<T>& out) {
  if (use_cuda) {
    const std::string error = run_block_cuda(view, block, detail, out);
    if (!error.empty()) throw std::runtime_error("CUDA backend: " + error);
  } else {
    run_block_cpu(view, block, detail, threads, out);
  }
}

// Prompts first .. total - 1 through the CUDA pipeline: two chunks in flight, the
// next one filled (or sampled on the device) while the last one is folded.
template <class T, class Fold>
void run_pipelined(const PromptSource& source, const ModelView<T>& view, const BatchConfig& config, long first,
                   long total, Fold& fold, Progress& progress, BatchResult& result) {
  const int chunk = config.chunk_given
                        ? config.chunk
                        : CudaPipeline<T>::auto_chunk(source.d, source.C, source.N, view.layers, config.detail);
  result.chunk = chunk;
  CudaPipeline<T> pipe(view, source.d, source.C, source.N, static_cast<int>(std::min<long>(chunk, total - first)),
                       false);
  const bool on_device = device_can_sample(source);
  HostRedraw<T> redraw;
  if (on_device) {
    const SamplerOptions base = *source.sampler();
    const int d = source.d, N = source.N;
    redraw = [base, d, N](long k, T* X, std::int32_t* labels, T* probe, std::int32_t* probe_label) {
      SamplerOptions o = base;
      o.seed = base.seed + static_cast<std::uint64_t>(k);
      const DoublePrompt p = sample_prompt_doubles(o);
      for (std::size_t e = 0; e < p.X.size(); ++e) X[e] = static_cast<T>(p.X[e]);
      for (int r = 0; r < N; ++r) labels[r] = p.labels[r];
      for (int k2 = 0; k2 < d; ++k2) probe[k2] = static_cast<T>(p.probe[k2]);
      *probe_label = p.probe_label ? *p.probe_label : -1;
    };
  }
  struct InFlight {
    long first = 0;
    int count = 0;
    bool busy = false;
  } flight[2];
  PromptBlock<T> blocks[2];
  BlockOutput<T> out;
  std::vector<std::int32_t> probe_labels;
  for (int slot = 0; first < total || flight[0].busy || flight[1].busy; slot = 1 - slot) {
    if (first < total) {
      const int count = static_cast<int>(std::min<long>(chunk, total - first));
      if (on_device) {
        const SampledChunk sc{source.sampler()->seed, first, count, source.sampler()->probe_label};
        result.device_redrawn += pipe.launch_sampled(slot, sc, config.detail, redraw);
        result.device_sampled += count;
      } else {
        source.fill(first, count, blocks[slot]);
        pipe.launch(slot, blocks[slot], config.detail);
      }
      flight[slot] = {first, count, true};
      first += count;
    }
    InFlight& other = flight[1 - slot];
    if (other.busy) {
      pipe.collect(1 - slot, out, &probe_labels);
      fold(other.first, other.count, config.detail, out, probe_labels);
      other.busy = false;
      progress.update(other.first + other.count);
    }
  }
}

// The run split by config.distribute: items are the chunks a single process runs
// (the validated ones, then the rest), each run where the distributor puts it; its
// per-prompt records and its validation report come back and are folded in prompt
// order, so the statistics are the same sums as on one process. On CUDA each chunk
// is filled on the host and run alone (no pipeline).
template <class T, class Fold>
void run_distributed(const PromptSource& source, const Model& model, const ModelView<T>& view,
                     const ModelView<double>& bound_view, double input_u, long validate, const BatchConfig& config,
                     bool use_cuda, Fold& fold, Progress& progress, BatchResult& result) {
  const long total = source.size(), chunk = config.chunk;
  const long validated_items = (validate + chunk - 1) / chunk;
  const long items = validated_items + (total - validate + chunk - 1) / chunk;
  const int L1 = view.layers + 1;
  auto range = [&](long i) {
    const long first = i < validated_items ? i * chunk : validate + (i - validated_items) * chunk;
    const long end = i < validated_items ? validate : total;
    return std::pair{first, static_cast<int>(std::min(chunk, end - first))};
  };
  auto one = [&](long i) {
    const auto [first, count] = range(i);
    const bool validating = i < validated_items;
    const Detail detail = validating ? Detail::with_states : config.detail;
    PromptBlock<T> block;
    BlockOutput<T> out;
    source.fill(first, count, block);
    run_block(view, block, detail, config.threads, use_cuda, out);
    std::string bytes;
    put_vector(bytes, out.predictions);
    put_vector(bytes, out.probe_margins);
    put_vector(bytes, out.records);
    put_vector(bytes, block.probe_label);
    if (validating) {
      const auto start = std::chrono::steady_clock::now();
      const ValidationReport v =
          validate_block(source, model, bound_view, input_u, first, count, out, L1, config.threads);
      const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      const long head[2] = {v.prompts, v.prompts_diverged};
      put_bytes(bytes, head, 2);
      put_bytes(bytes, &v.first_divergence, 1);
      put_vector(bytes, v.layers);
      put_bytes(bytes, &seconds, 1);
    }
    return bytes;
  };
  auto take = [&](long i, const std::string& bytes) {
    const auto [first, count] = range(i);
    BlockOutput<T> out;
    std::vector<std::int32_t> probe_label;
    std::size_t at = 0;
    get_vector(bytes, at, out.predictions);
    get_vector(bytes, at, out.probe_margins);
    get_vector(bytes, at, out.records);
    get_vector(bytes, at, probe_label);
    const bool validating = i < validated_items;
    fold(first, count, validating ? Detail::with_states : config.detail, out, probe_label);
    if (validating) {
      ValidationReport v;
      long head[2];
      get_bytes(bytes, at, head, 2);
      v.prompts = head[0];
      v.prompts_diverged = head[1];
      get_bytes(bytes, at, &v.first_divergence, 1);
      get_vector(bytes, at, v.layers);
      double seconds = 0;
      get_bytes(bytes, at, &seconds, 1);
      result.validation->merge(v);
      result.validation_seconds += seconds;
    }
    progress.update(first + count);
  };
  result.chunk = config.chunk;
  config.distribute(items, one, take);
}

template <class T>
BatchResult run_typed(const PromptSource& source, const Model& model, const BatchConfig& config, bool use_cuda) {
  const BatchModel<T> bm = make_batch_model<T>(model, source.d, source.C);
  const BatchModel<double> bound_model = make_batch_model<double>(model, source.d, source.C);
  // Sampled inputs are doubles: exact in float64, rounded once into float32.
  const double input_u = sizeof(T) == sizeof(float) || !source.inputs_are_doubles() ? std::numeric_limits<T>::epsilon() / 2 : 0.0;
  const ModelView<T> view = bm.view();
  const int L1 = bm.layers() + 1;
  const long total = source.size();
  const long validate = std::min(config.validate, total);
  BatchResult result;
  result.predictions.resize(total);
  if (config.detail != Detail::final_only) result.layers.resize(L1);
  if (validate > 0) {
    result.validation = ValidationReport{};
    result.validation->reference = "interval:256 (Arb balls, certified)";
    result.validation->certified_reference = true;
    result.validation->layers.resize(L1);
  }
  Progress progress("iclcert batch", total, config.progress);
  // Folds a chunk's results (prompts first .. first + count - 1) into the result.
  auto fold = [&](long first, int count, Detail detail, const BlockOutput<T>& out,
                  const std::vector<std::int32_t>& probe_label) {
    for (int i = 0; i < count; ++i) {
      const long k = first + i;
      result.predictions[k] = stored_prediction(out.predictions[i]);
      if (out.predictions[i] == kNoPrediction && result.undefined++ == 0) result.first_undefined = k;
      const bool labelled = probe_label[i] >= 0;
      if (labelled) {
        ++result.labelled;
        const T margin = detail == Detail::final_only ? out.probe_margins[i] : out.records[(i + 1L) * L1 - 1].probe_margin;
        result.correct += margin > T(0);
      }
      if (detail == Detail::final_only) continue;
      for (int t = 0; t < L1; ++t) {
        const LayerRecord<T>& r = out.records[static_cast<long>(i) * L1 + t];
        LayerStats& s = result.layers[t];
        const T values[6] = {r.fisher, r.gap_ratio, r.min_label_margin, r.probe_margin, r.probe_alignment,
                             r.probe_attention_same_class};
        for (int m = 0; m < 6; ++m) s.metrics[m].add(static_cast<double>(values[m]));
        if (labelled) {
          ++s.labelled;
          s.correct += r.probe_margin > T(0);
        }
      }
    }
  };
  if (config.distribute) {
    run_distributed(source, model, view, bound_model.view(), input_u, validate, config, use_cuda, fold, progress, result);
    progress.finish();
    result.seconds = progress.elapsed();
    return result;
  }
  PromptBlock<T> block;
  BlockOutput<T> out;
  long first = 0;
  // Validated prompts come in chunks of their own, run with every state kept, and
  // on the CPU path every chunk is filled, run and folded in turn.
  const long serial_end = use_cuda ? validate : total;
  result.chunk = config.chunk;
  while (first < serial_end) {
    const bool validating = first < validate;
    const int count = static_cast<int>(std::min<long>(config.chunk, (validating ? validate : total) - first));
    const Detail detail = validating ? Detail::with_states : config.detail;
    source.fill(first, count, block);
    run_block(view, block, detail, config.threads, use_cuda, out);
    fold(first, count, detail, out, block.probe_label);
    if (validating) {
      const auto start = std::chrono::steady_clock::now();
      result.validation->merge(
          validate_block(source, model, bound_model.view(), input_u, first, count, out, L1, config.threads));
      result.validation_seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    }
    first += count;
    progress.update(first);
  }
  if (use_cuda && first < total) run_pipelined(source, view, config, first, total, fold, progress, result);
  progress.finish();
  result.seconds = progress.elapsed();
  return result;
}

}  // namespace

const char* to_string(BatchArith a) { return a == BatchArith::float32 ? "float32" : "float64"; }

void MetricStats::add(double v) {
  if (std::isnan(v)) {
    ++undefined;
  } else if (std::isinf(v)) {
    ++pos_inf;
  } else {
    min = finite == 0 ? v : std::min(min, v);
    max = finite == 0 ? v : std::max(max, v);
    sum += v;
    ++finite;
  }
}

std::unique_ptr<PromptSource> prompts_from_list(std::vector<Prompt> prompts, const std::string& file) {
  if (prompts.empty()) throw InputError(file, "prompts", "at least one prompt");
  for (std::size_t k = 1; k < prompts.size(); ++k)
    if (prompts[k].d != prompts[0].d || prompts[k].C != prompts[0].C || prompts[k].N != prompts[0].N)
      throw InputError(file, "prompts[" + std::to_string(k) + "]",
                       "the batch path needs every prompt of a batch to share d, C and N (prompt 0 has d = " +
                           std::to_string(prompts[0].d) + ", C = " + std::to_string(prompts[0].C) +
                           ", N = " + std::to_string(prompts[0].N) + ")");
  return std::make_unique<ListSource>(std::move(prompts), file);
}

std::unique_ptr<PromptSource> prompts_from_sampler(const SamplerOptions& base, long count, int threads) {
  if (count < 1) throw std::invalid_argument("--prompts must be at least 1");
  return std::make_unique<SamplerSource>(base, count, threads);
}

long peak_rss_kib() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss;
}

BackendChoice choose_backend(const BatchConfig& config, const char* who) {
  BackendChoice b;
  if (config.device != DeviceChoice::cpu) {
    std::string why;
    const int devices = cuda_device_count(why);
    char line[320];
    if (devices > 0) {
      b.use_cuda = true;
      b.device = "cuda";
      std::snprintf(line, sizeof line, "%s: using the CUDA backend (%d device%s found)\n", who, devices,
                    devices == 1 ? "" : "s");
    } else if (config.device == DeviceChoice::cuda) {
      throw std::invalid_argument("--device cuda: no usable CUDA device (" + why + ")");
    } else {
      std::snprintf(line, sizeof line, "%s: no CUDA device (%s); using the CPU backend with %d thread%s\n", who,
                    why.c_str(), config.threads, config.threads == 1 ? "" : "s");
    }
    b.notice = line;
  }
  if (!b.use_cuda) b.device = "cpu (" + std::to_string(config.threads) + " threads)";
  return b;
}

BatchResult run_batch(const PromptSource& source, const Model& model, const BatchConfig& config) {
  if (config.chunk < 1 || config.threads < 1) throw std::invalid_argument("chunk and threads must be >= 1");
  source.require_finite(config.arith);
  const BackendChoice backend = choose_backend(config, "iclcert batch");
  BatchResult r = config.arith == BatchArith::float32 ? run_typed<float>(source, model, config, backend.use_cuda)
                                                      : run_typed<double>(source, model, config, backend.use_cuda);
  r.device = backend.device;
  r.backend_notice = backend.notice;
  r.peak_rss_kib = peak_rss_kib();
  return r;
}

}  // namespace iclcert::gpu
