#include "gpu/batch_certify.hpp"

#include "gpu/batch_model.hpp"
#include "gpu/certify_host.hpp"
#include "gpu/interval_certify.hpp"
#include "gpu/interval_model.hpp"
#include "gpu/parallel.hpp"
#include "gpu/progress.hpp"
#include "gpu/thread_cache.hpp"
#include "numerics/interval_arb.hpp"
#include "numerics/precision.hpp"
#include "numerics/recursion.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <vector>


namespace iclcert::gpu {

namespace {

// The ball's ends as doubles rounded outward: -inf / +inf where an end is beyond the
// doubles or the ball is unbounded (Arb's exponents are unbounded; a double's are not).
Iv outward_doubles(const ArbBall& x) {
  constexpr double inf = std::numeric_limits<double>::infinity();
  if (!arb_is_finite(x.get())) return {-inf, inf};
  arf_t end;
  arf_init(end);
  arb_get_lbound_arf(end, x.get(), 64);
  const double lo = arf_get_d(end, ARF_RND_FLOOR);
  arb_get_ubound_arf(end, x.get(), 64);
  const double hi = arf_get_d(end, ARF_RND_CEIL);
  arf_clear(end);
  return {lo, hi};
}

}  // namespace

ArbMargin certify_with_arb(const Prompt& prompt, const Model& model, long start_bits, long max_bits) {
  ArbMargin out;
  for (long bits = start_bits;; bits *= 2) {
    WorkingPrecision scope(bits);
    const Trace<ArbBall> trace = run_recursion<ArbBall>(prompt, model);
    const State<ArbBall>& s = trace.entries.back().state;
    const auto y = s.y(s.probe_row());
    // The largest midpoint as a double, as certified_prediction (numerics/rigorous.hpp)
    // chooses it for validation and compare.
    int best = 0;
    for (int c = 1; c < static_cast<int>(y.size()); ++c)
      if (ScalarTraits<ArbBall>::to_double(y[c]) > ScalarTraits<ArbBall>::to_double(y[best])) best = c;
    // The margin is the smallest gap: its lower end is the smallest of the gaps'
    // lower ends, its upper end the smallest of their upper ends; certified when
    // every gap is certainly positive. Ends are never converted to rationals, so a
    // ball too wide or too large for them (unbounded, or beyond 2^65536) is an
    // undecided margin at this precision, not an error.
    out.certified = true;
    out.lo = out.hi = std::numeric_limits<double>::infinity();
    for (int c = 0; c < static_cast<int>(y.size()); ++c) {
      if (c == best) continue;
      const ArbBall gap = y[best] - y[c];
      const Iv ends = outward_doubles(gap);
      out.lo = std::min(out.lo, ends.lo);
      out.hi = std::min(out.hi, ends.hi);
      out.certified = out.certified && ScalarTraits<ArbBall>::certainly_positive(gap);
    }
    out.prediction = best;
    out.bits = bits;
    // Otherwise more bits may narrow the balls; an exact tie never decides and
    // runs to the cap.
    if (out.certified || bits * 2 > max_bits) return out;
  }
}

}  // namespace iclcert::gpu

namespace iclcert::gpu {
namespace {

double since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

// Runs f(t, i) for i in [0, n) on `threads` threads (contiguous ranges; each thread
// holds a ThreadCacheRelease since f may run MPFR or Arb). The first exception of
// any thread is rethrown here, after the others have stopped.
template <class F>
void parallel_for(int n, int threads, F&& f) {
  threads = std::max(1, std::min(threads, n));
  WorkerPool pool;
  pool.run(
      threads,
      [&](int t) {
        const ThreadCacheRelease release;
        const int begin = static_cast<int>(static_cast<long>(n) * t / threads);
        const int end = static_cast<int>(static_cast<long>(n) * (t + 1) / threads);
        for (int i = begin; i < end && !pool.stopped(); ++i) f(t, i);
      },
      false);
}

bool is_double(const Rational& v) {
  const double x = nearest_double(v);
  return std::isfinite(x) && rational_from_double(x) == v;
}

bool all_doubles(const Prompt& p) {
  return std::all_of(p.X.data().begin(), p.X.data().end(), is_double) &&
         std::all_of(p.probe.begin(), p.probe.end(), is_double);
}

template <class T>
std::vector<std::int32_t> float_predictions(const ModelView<T>& model, const PromptBlock<T>& block, int threads,
                                            bool use_cuda) {
  BlockOutput<T> out;
  if (use_cuda) {
    const std::string error = run_block_cuda(model, block, Detail::final_only, out);
    if (!error.empty()) throw std::runtime_error("CUDA backend: " + error);
  } else {
    run_block_cpu(model, block, Detail::final_only, threads, out);
  }
  return out.predictions;
}

}  // namespace

// certify_prompt as compiled for the best x86-64 level this CPU supports
// (gpu/certify_host.hpp), chosen once.
IntervalVerdict certify_on_host(const ModelView<Iv>& m, int N, const double* X, const std::int32_t* labels,
                                const double* probe, int probe_label, Iv* workspace, const IntervalOutputs& out) {
  using Host = IntervalVerdict (*)(const ModelView<Iv>&, int, const double*, const std::int32_t*, const double*, int,
                                   Iv*, const IntervalOutputs&);
  static const Host host = [] {
#ifdef ICLCERT_CERTIFY_X86_LEVELS
    __builtin_cpu_init();
    if (__builtin_cpu_supports("x86-64-v4")) return Host{&certify_host_v4};
    if (__builtin_cpu_supports("x86-64-v3")) return Host{&certify_host_v3};
#endif
    return Host{&certify_host_base};
  }();
  return host(m, N, X, labels, probe, probe_label, workspace, out);
}

const char* to_string(CertStatus s) {
  switch (s) {
    case CertStatus::certified: return "certified";
    case CertStatus::escalated: return "escalated";
    default: return "undecided";
  }
}

CertifyReport run_certify(const PromptSource& source, const Model& model, const CertifyConfig& config) {
  if (config.chunk < 1 || config.threads < 1) throw std::invalid_argument("chunk and threads must be >= 1");
  source.require_finite(config.arith);
  const int d = source.d, C = source.C, N = source.N;
  const BatchModel<Iv> im = make_interval_model(model, d, C);
  const ModelView<Iv> view = im.view();
  const int L1 = im.layers() + 1;
  const long total = source.size();
  CertifyReport r;
  r.prompts.resize(total);
  r.decided_float64_by_depth.assign(L1, 0);
  const long ws = interval_workspace_size(d, C, N);
  std::vector<std::vector<Iv>> workspace(config.threads, std::vector<Iv>(ws));
  std::vector<std::vector<Iv>> depth_margins(config.threads, std::vector<Iv>(L1));
  std::vector<std::vector<long>> depth_counts(config.threads, std::vector<long>(L1, 0));
  Progress progress("iclcert batch --certify", total, config.progress);
  // The float predictions' models, flattened once. A float32 run fills a block of
  // its own: its inputs are the exact values rounded once to float, which the
  // doubles rounded again to float need not be.
  const BatchModel<float> float_model = make_batch_model<float>(model, d, C);
  const BatchModel<double> double_model = make_batch_model<double>(model, d, C);
  PromptBlock<double> block;
  PromptBlock<float> float_block;
  const int chunk = config.use_cuda && !config.chunk_given ? certify_chunk_cuda(d, C, N, im.layers()) : config.chunk;
  for (long first = 0; first < total;) {
    const int count = static_cast<int>(std::min<long>(chunk, total - first));
    source.fill(first, count, block);  // doubles: exact when the source's inputs are doubles
    auto start = std::chrono::steady_clock::now();
    std::vector<std::int32_t> fp;
    if (config.arith == BatchArith::float32) {
      source.fill(first, count, float_block);
      fp = float_predictions(float_model.view(), float_block, config.threads, config.use_cuda);
    } else {
      fp = float_predictions(double_model.view(), block, config.threads, config.use_cuda);
    }
    r.float_seconds += since(start);
    start = std::chrono::steady_clock::now();
    std::vector<char> exact(count, source.inputs_are_doubles() ? 1 : 0);
    if (!source.inputs_are_doubles())
      parallel_for(count, config.threads, [&](int, int i) { exact[i] = all_doubles(source.exact(first + i)); });
    for (char e : exact) r.inputs_not_doubles += !e;
    std::vector<IntervalVerdict> device_verdicts;
    std::vector<Iv> device_margins;
    if (config.use_cuda) {
      const std::string error = certify_block_cuda(view, block, device_verdicts, &device_margins);
      if (!error.empty()) throw std::runtime_error("CUDA backend: " + error);
    }
    parallel_for(count, config.threads, [&](int t, int i) {
      PromptCertificate& c = r.prompts[first + i];
      c.float_prediction = fp[i];
      if (!exact[i]) return;
      if (config.use_cuda) {
        const IntervalVerdict& v = device_verdicts[i];
        c.prediction = v.prediction;
        c.lo = v.margin.lo;
        c.hi = v.margin.hi;
        c.status = v.certified && !v.error ? CertStatus::certified : CertStatus::undecided;
        if (!v.error)
          for (int k = 0; k < L1; ++k) depth_counts[t][k] += device_margins[static_cast<long>(i) * L1 + k].lo > 0;
        return;
      }
      IntervalOutputs outs;
      outs.depth_margins = depth_margins[t].data();
      const IntervalVerdict v =
          certify_on_host(view, N, block.X.data() + static_cast<long>(i) * N * d, block.labels.data() + static_cast<long>(i) * N,
                         block.probe.data() + static_cast<long>(i) * d, block.probe_label[i], workspace[t].data(), outs);
      c.prediction = v.prediction;
      c.lo = v.margin.lo;
      c.hi = v.margin.hi;
      c.status = v.certified && !v.error ? CertStatus::certified : CertStatus::undecided;
      if (v.error) return;
      for (int k = 0; k < L1; ++k) depth_counts[t][k] += depth_margins[t][k].lo > 0;
    });
    r.interval_seconds += since(start);
    if (config.escalate) {
      start = std::chrono::steady_clock::now();
      std::vector<int> todo;
      for (int i = 0; i < count; ++i)
        if (r.prompts[first + i].status == CertStatus::undecided) todo.push_back(i);
      parallel_for(static_cast<int>(todo.size()), config.threads, [&](int, int j) {
        PromptCertificate& c = r.prompts[first + todo[j]];
        const ArbMargin a = certify_with_arb(source.exact(first + todo[j]), model, config.start_bits, config.max_bits);
        c.tried_arb = true;
        c.prediction = a.prediction;
        c.lo = a.lo;
        c.hi = a.hi;
        c.bits = a.bits;
        c.status = a.certified ? CertStatus::escalated : CertStatus::undecided;
      });
      r.arb_runs += static_cast<long>(todo.size());
      r.arb_seconds += since(start);
    }
    first += count;
    progress.update(first);
  }
  progress.finish();
  for (int t = 0; t < config.threads; ++t)
    for (int k = 0; k < L1; ++k) r.decided_float64_by_depth[k] += depth_counts[t][k];
  for (const PromptCertificate& c : r.prompts) {
    r.certified += c.status == CertStatus::certified;
    r.escalated += c.status == CertStatus::escalated;
    r.undecided += c.status == CertStatus::undecided;
    r.flips += c.flipped();
    r.float_undefined += c.float_undefined();
  }
  r.seconds = progress.elapsed();
  return r;
}

}  // namespace iclcert::gpu
