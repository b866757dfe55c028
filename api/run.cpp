#include "api/run.hpp"

#include "api/trace_table.hpp"
#include "io/output_file.hpp"
#include "io/trace_io.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <memory>

namespace iclcert::api {
namespace {

// Largest |a - b| over every metric of two traces of the same run, in doubles:
// how far the fast run is from the reference.
template <Scalar A, Scalar B>
double max_metric_difference(const Trace<A>& a, const Trace<B>& b) {
  double worst = 0;
  auto diff = [&](const auto& x, const auto& y) {
    if (x && y) {
      double dx = ScalarTraits<typename std::decay_t<decltype(*x)>>::to_double(*x);
      double dy = ScalarTraits<typename std::decay_t<decltype(*y)>>::to_double(*y);
      worst = std::max(worst, std::abs(dx - dy) / std::max(1.0, std::abs(dy)));
    }
  };
  for (std::size_t t = 0; t < a.entries.size(); ++t) {
    const auto& ea = a.entries[t];
    const auto& eb = b.entries[t];
    diff(ea.metrics.min_label_margin, eb.metrics.min_label_margin);
    diff(ea.metrics.probe_margin, eb.metrics.probe_margin);
    diff(ea.metrics.probe_alignment, eb.metrics.probe_alignment);
    diff(ea.probe_attention_same_class, eb.probe_attention_same_class);
  }
  return worst;
}

}  // namespace

void overflow_error(const Arithmetic& a, int t) {
  throw std::invalid_argument(
      "--arith " + a.label() + " overflowed: " +
      (t == 0 ? std::string("the input holds a number beyond the range of this arithmetic")
              : "the state after layer " + std::to_string(t) + " holds an infinity or a NaN") +
      "; its numbers would mean nothing, so none are printed. " +
      (a.kind == Arithmetic::Kind::double_ ? "Run in --arith mpfr:BITS or interval:BITS, whose exponent range is vast"
                                           : "Run in --arith interval:BITS, whose enclosures stay sound"));
}

RunResult run(const RunRequest& rq, const Control& control) {
  ControlScope scope(&control);
  Outputs outputs({rq.instance.prompt_file, rq.instance.model_file});
  outputs.declare("--json", rq.json_out);
  outputs.declare("--csv", rq.csv_out);
  const Instance in = load_instance(rq.instance, GivenInstance{rq.prompt, rq.model, rq.prompt_source, rq.model_source});
  const Prompt& p = in.prompt;
  std::vector<Arithmetic> ariths = rq.arithmetics;
  if (ariths.empty()) ariths = {parse_arithmetic("double"), parse_arithmetic("mpfr:256")};
  if (!rq.json_out.empty() && ariths.size() != 1)
    throw std::invalid_argument("--json writes one trace: give exactly one --arith with it");

  Account log(rq.on_account);
  log.print("prompt: %s (d=%d, C=%d, N=%d%s)\n", in.prompt_source.c_str(), p.d, p.C, p.N,
            p.probe_label ? ", probe label known" : ", no probe label");
  log.print("model:  %s (%zu layers, %s kernel)\n", in.model_source.c_str(), in.model.layers.size(),
            in.model.kernel == Kernel::softmax ? "softmax" : "linear");

  RunResult result;
  std::shared_ptr<Trace<double>> double_trace;
  // Interval runs' rows carry their enclosures too (NAME_lo, NAME_hi).
  const bool enclosures = std::any_of(ariths.begin(), ariths.end(), [](const Arithmetic& a) {
    return a.kind == Arithmetic::Kind::interval || a.kind == Arithmetic::Kind::interval_mpfi;
  });
  CsvTable csv = trace_csv_table(enclosures);
  for (const Arithmetic& a : ariths) {
    checkpoint();
    with_scalar(a, [&]<Scalar T>() {
      RunTrace r{a, nullptr, 0, std::nullopt};
      const auto start = std::chrono::steady_clock::now();
      Trace<T> trace = run_recursion<T>(p, in.model);
      r.milliseconds = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
      require_finite_trace(trace, a);
      log.print("\narithmetic %s (%.1f ms; %s)\n", a.label().c_str(), r.milliseconds,
                ScalarTraits<T>::exact      ? "exact"
                : ScalarTraits<T>::rigorous ? "rigorous enclosures; the table shows midpoints, --csv the enclosures too"
                                            : "rounded, uncertified");
      log.print("%s", trace_table(trace).c_str());
      add_trace_rows(csv, trace, a.label());
      if constexpr (std::is_same_v<T, double>) {
        double_trace = std::make_shared<Trace<double>>(trace);
      } else if (double_trace) {
        r.difference_from_double = max_metric_difference(*double_trace, trace);
        log.print("largest relative difference from the double run (margins, alignment, attention): %.3g\n",
                  *r.difference_from_double);
      }
      r.trace = trace_to_json(trace, a.label());
      if (!rq.json_out.empty()) outputs.set(rq.json_out, r.trace.dump(1) + "\n");
      result.runs.push_back(std::move(r));
    });
  }
  result.csv = csv.text();
  if (!rq.csv_out.empty()) outputs.set(rq.csv_out, result.csv);
  checkpoint();
  outputs.commit();
  if (!rq.json_out.empty() && rq.json_out != "-") log.print("trace written to %s\n", rq.json_out.c_str());
  if (!rq.csv_out.empty() && rq.csv_out != "-") log.print("table written to %s\n", rq.csv_out.c_str());
  result.account = log.text();
  return result;
}

}  // namespace iclcert::api
