#include "cli/prove_command.hpp"

#include "api/csv_table.hpp"
#include "io/input_error.hpp"
#include "io/output_file.hpp"
#include "proofs/lemmas.hpp"

#include <cstdio>
#include <filesystem>
#include <memory>
#include <optional>

namespace iclcert::cli {
namespace {

struct ProveOptions {
  std::string lemma, export_dir, json_out, csv_out;
  int classes = 3;
  double timeout_s = 60;
};

Json verdict_json(const proofs::LemmaResult& r) {
  Json steps = Json::array();
  for (const auto& s : r.steps)
    steps.push_back({{"query", s.name}, {"encodes", s.encodes}, {"method", s.method},
                     {"answer", proofs::answer_name(s.answer)}, {"seconds", s.seconds}, {"reason", s.reason}});
  Json evidence = r.evidence;
  evidence["statement"] = r.statement;
  evidence["solver"] = "Z3 4.8.12 (C++ API)";
  evidence["seconds"] = r.seconds;
  evidence["queries"] = steps;
  return {{"format", 1}, {"claim", r.lemma}, {"verdict", proofs::verdict_name(r.verdict)},
          {"evidence", evidence}, {"counterexample", r.counterexample}};
}

int prove(const ProveOptions& o) {
  // Whole milliseconds reach Z3, which reads 0 as no limit at all: below 1 ms is refused.
  if (!(o.timeout_s >= 0.001) || o.timeout_s > 86400) {
    char given[32];
    std::snprintf(given, sizeof given, "%g", o.timeout_s);
    throw std::invalid_argument(std::string("--timeout ") + given + ": expected seconds from 0.001 (1 ms) to 86400");
  }
  // Every output is checked before the (possibly long) proof, and written only
  // once everything has succeeded: a bad --json leaves no export behind.
  std::optional<proofs::SmtExport> smt_export;
  if (!o.export_dir.empty()) {
    const auto same = [](std::string a, std::string b) {
      while (a.size() > 1 && a.back() == '/') a.pop_back();
      while (b.size() > 1 && b.back() == '/') b.pop_back();
      return std::filesystem::path(a).lexically_normal() == std::filesystem::path(b).lexically_normal();
    };
    if (!o.json_out.empty() && same(o.json_out, o.export_dir))
      throw InputError("--json " + o.json_out, "", "is also the --export directory: give each output its own path");
    if (!o.csv_out.empty() && same(o.csv_out, o.export_dir))
      throw InputError("--csv " + o.csv_out, "", "is also the --export directory: give each output its own path");
    smt_export.emplace(o.export_dir);
  }
  Outputs outputs;
  outputs.declare("--json", o.json_out);
  outputs.declare("--csv", o.csv_out);
  proofs::LemmaOptions options;
  options.classes = o.classes;
  options.timeout_ms = static_cast<unsigned>(o.timeout_s * 1000);
  options.export_smtlib = smt_export.has_value();
  const proofs::LemmaResult r = proofs::prove_lemma(o.lemma, options);
  std::printf("lemma %s: %s\n", r.lemma.c_str(), r.statement.c_str());
  for (const auto& s : r.steps)
    std::printf("  %-48s %-7s %-8s %9.3f s%s%s\n", s.name.c_str(), s.method.c_str(), proofs::answer_name(s.answer),
                s.seconds, s.reason.empty() ? "" : "  ", s.reason.c_str());
  if (!r.summary.empty()) std::printf("  %s\n", r.summary.c_str());
  std::printf("verdict: %s (%.3f s)\n", proofs::verdict_name(r.verdict), r.seconds);
  if (!r.counterexample.is_null()) std::printf("counterexample: %s\n", r.counterexample.dump(1).c_str());
  std::fflush(stdout);
  if (smt_export) smt_export->stage(r.smtlib);
  if (!o.json_out.empty()) outputs.set(o.json_out, verdict_json(r).dump(1) + "\n");
  if (!o.csv_out.empty()) {  // the printed table of queries, named as in the JSON's evidence.queries
    CsvTable csv({"query", "method", "answer", "seconds", "reason"});
    for (const auto& q : r.steps)
      csv.row().text(q.name).text(q.method).text(proofs::answer_name(q.answer)).number(q.seconds).text(q.reason);
    outputs.set(o.csv_out, csv.text());
  }
  outputs.commit();
  if (smt_export) {
    smt_export->commit();
    std::printf("queries written to %s (SMT-LIB2, %zu files)\n", o.export_dir.c_str(), r.smtlib.size());
  }
  switch (r.verdict) {
    case proofs::Verdict::proved: return 0;
    case proofs::Verdict::refuted: return 1;
    case proofs::Verdict::undecided: return 3;
  }
  return 3;
}

}  // namespace

std::function<int()> register_prove(CLI::App& app) {
  auto o = std::make_shared<ProveOptions>();
  CLI::App* cmd = app.add_subcommand("prove", "Prove a one-layer lemma with the Z3 SMT solver (theory/smt_lemmas.md)");
  cmd->add_option("--lemma", o->lemma, "A1, A1u, A1u-layers, A2, E1, or A1-false (a deliberately false variant)")
      ->required()
      ->check(CLI::IsMember(proofs::lemma_names()));
  cmd->add_option("--classes", o->classes, "Classes C for A1 and A1-false (2, 3 or 4)")->capture_default_str()->check(CLI::Range(2, 4));
  cmd->add_option("--timeout", o->timeout_s, "Seconds per solver query")->capture_default_str();
  cmd->add_option("--export", o->export_dir, "Write every query as DIR/NAME.smt2 (SMT-LIB2)");
  cmd->add_option("--json", o->json_out, "Write the verdict file (docs/formats.md) here");
  cmd->add_option("--csv", o->csv_out, "Write the printed table of queries as CSV (docs/formats.md) here");
  return [o] { return prove(*o); };
}

}  // namespace iclcert::cli
