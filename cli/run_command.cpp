#include "cli/run_command.hpp"

#include "api/arithmetic.hpp"
#include "api/instance.hpp"
#include "cli/table.hpp"
#include "io/output_file.hpp"
#include "io/trace_io.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <memory>

namespace iclcert::cli {
namespace {

struct RunOptions {
  InstanceOptions instance;
  std::vector<std::string> arith;
  std::string json_out, csv_out;
};

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

int run(const RunOptions& o) {
  Outputs outputs({o.instance.prompt_file, o.instance.model_file});
  outputs.declare("--json", o.json_out);
  outputs.declare("--csv", o.csv_out);
  Instance in = load_instance(o.instance);
  const Prompt& p = in.prompt;
  std::vector<Arithmetic> ariths;
  for (const auto& a : o.arith) ariths.push_back(parse_arithmetic(a));
  if (ariths.empty()) ariths = {parse_arithmetic("double"), parse_arithmetic("mpfr:256")};
  if (!o.json_out.empty() && ariths.size() != 1)
    throw std::invalid_argument("--json writes one trace: give exactly one --arith with it");

  std::printf("prompt: %s (d=%d, C=%d, N=%d%s)\n", in.prompt_source.c_str(), p.d, p.C, p.N,
              p.probe_label ? ", probe label known" : ", no probe label");
  std::printf("model:  %s (%zu layers, %s kernel)\n", in.model_source.c_str(), in.model.layers.size(),
              in.model.kernel == Kernel::softmax ? "softmax" : "linear");

  std::shared_ptr<Trace<double>> double_trace;
  // Interval runs' rows carry their enclosures too (NAME_lo, NAME_hi).
  const bool enclosures = std::any_of(ariths.begin(), ariths.end(), [](const Arithmetic& a) {
    return a.kind == Arithmetic::Kind::interval || a.kind == Arithmetic::Kind::interval_mpfi;
  });
  CsvTable csv = trace_csv_table(enclosures);
  for (const Arithmetic& a : ariths) {
    with_scalar(a, [&]<Scalar T>() {
      const auto start = std::chrono::steady_clock::now();
      Trace<T> trace = run_recursion<T>(p, in.model);
      const double ms =
          std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
      require_finite_trace(trace, a);
      std::printf("\narithmetic %s (%.1f ms; %s)\n", a.label().c_str(), ms,
                  ScalarTraits<T>::exact      ? "exact"
                  : ScalarTraits<T>::rigorous ? "rigorous enclosures; the table shows midpoints, --csv the enclosures too"
                                              : "rounded, uncertified");
      print_table(stdout, trace);
      add_trace_rows(csv, trace, a.label());
      if constexpr (std::is_same_v<T, double>) {
        double_trace = std::make_shared<Trace<double>>(trace);
      } else if (double_trace) {
        std::printf("largest relative difference from the double run (margins, alignment, attention): %.3g\n",
                    max_metric_difference(*double_trace, trace));
      }
      if (!o.json_out.empty()) outputs.set(o.json_out, trace_to_json(trace, a.label()).dump(1) + "\n");
    });
  }
  if (!o.csv_out.empty()) outputs.set(o.csv_out, csv.text());
  outputs.commit();
  if (!o.json_out.empty() && o.json_out != "-") std::printf("trace written to %s\n", o.json_out.c_str());
  if (!o.csv_out.empty() && o.csv_out != "-") std::printf("table written to %s\n", o.csv_out.c_str());
  return 0;
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

std::function<int()> register_run(CLI::App& app) {
  auto o = std::make_shared<RunOptions>();
  CLI::App* cmd = app.add_subcommand("run", "Run the recursion on one prompt and print the metrics per layer");
  add_instance_options(*cmd, o->instance);
  cmd->add_option("--arith", o->arith,
                  "double | rational | mpfr:BITS | interval:BITS | interval-mpfi:BITS; repeatable (default: double and "
                  "mpfr:256)");
  cmd->add_option("--json", o->json_out, "Write the trace (docs/formats.md) to this file (- for standard output)");
  cmd->add_option("--csv", o->csv_out, "Write the printed table as CSV (docs/formats.md) to this file, every --arith");
  return [o] { return run(*o); };
}

}  // namespace iclcert::cli
