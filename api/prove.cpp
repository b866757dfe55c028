#include "api/prove.hpp"

#include "api/csv_table.hpp"
#include "io/input_error.hpp"
#include "io/output_file.hpp"

#include <cstdio>
#include <filesystem>
#include <optional>

namespace iclcert::api {
namespace {

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

int exit_status(proofs::Verdict v) {
  switch (v) {
    case proofs::Verdict::proved: return 0;
    case proofs::Verdict::refuted: return 1;
    case proofs::Verdict::undecided: return 3;
  }
  return 3;
}

// The export folder is none of the files: a bad --json leaves no export behind.
void check_export_folder(const ProveRequest& rq) {
  const auto same = [](std::string a, std::string b) {
    while (a.size() > 1 && a.back() == '/') a.pop_back();
    while (b.size() > 1 && b.back() == '/') b.pop_back();
    return std::filesystem::path(a).lexically_normal() == std::filesystem::path(b).lexically_normal();
  };
  if (!rq.json_out.empty() && same(rq.json_out, rq.export_dir))
    throw InputError("--json " + rq.json_out, "", "is also the --export directory: give each output its own path");
  if (!rq.csv_out.empty() && same(rq.csv_out, rq.export_dir))
    throw InputError("--csv " + rq.csv_out, "", "is also the --export directory: give each output its own path");
}

}  // namespace

ProveResult prove(const ProveRequest& rq, const Control& control) {
  ControlScope scope(&control);
  // Whole milliseconds reach Z3, which reads 0 as no limit at all: below 1 ms is refused.
  if (!(rq.timeout_s >= 0.001) || rq.timeout_s > 86400) {
    char given[32];
    std::snprintf(given, sizeof given, "%g", rq.timeout_s);
    throw std::invalid_argument(std::string("--timeout ") + given + ": expected seconds from 0.001 (1 ms) to 86400");
  }
  // Every output is checked before the (possibly long) proof, and written only
  // once everything has succeeded.
  std::optional<proofs::SmtExport> smt_export;
  if (!rq.export_dir.empty()) {
    check_export_folder(rq);
    smt_export.emplace(rq.export_dir);
  }
  Outputs outputs;
  outputs.declare("--json", rq.json_out);
  outputs.declare("--csv", rq.csv_out);
  proofs::LemmaOptions options;
  options.classes = rq.classes;
  options.timeout_ms = static_cast<unsigned>(rq.timeout_s * 1000);
  options.export_smtlib = smt_export.has_value();
  checkpoint();
  ProveResult out;
  out.lemma = proofs::prove_lemma(rq.lemma, options);
  checkpoint();
  const proofs::LemmaResult& r = out.lemma;
  Account log(rq.on_account);
  log.print("lemma %s: %s\n", r.lemma.c_str(), r.statement.c_str());
  for (const auto& s : r.steps)
    log.print("  %-48s %-7s %-8s %9.3f s%s%s\n", s.name.c_str(), s.method.c_str(), proofs::answer_name(s.answer),
              s.seconds, s.reason.empty() ? "" : "  ", s.reason.c_str());
  if (!r.summary.empty()) log.print("  %s\n", r.summary.c_str());
  log.print("verdict: %s (%.3f s)\n", proofs::verdict_name(r.verdict), r.seconds);
  if (!r.counterexample.is_null()) log.print("counterexample: %s\n", r.counterexample.dump(1).c_str());
  out.verdict = verdict_json(r);
  if (smt_export) smt_export->stage(r.smtlib);
  if (!rq.json_out.empty()) outputs.set(rq.json_out, out.verdict.dump(1) + "\n");
  if (!rq.csv_out.empty()) {  // the printed table of queries, named as in the JSON's evidence.queries
    CsvTable csv({"query", "method", "answer", "seconds", "reason"});
    for (const auto& q : r.steps)
      csv.row().text(q.name).text(q.method).text(proofs::answer_name(q.answer)).number(q.seconds).text(q.reason);
    outputs.set(rq.csv_out, csv.text());
  }
  outputs.commit();
  if (smt_export) {
    smt_export->commit();
    log.print("queries written to %s (SMT-LIB2, %zu files)\n", rq.export_dir.c_str(), r.smtlib.size());
  }
  out.exit_status = exit_status(r.verdict);
  out.account = log.text();
  return out;
}

}  // namespace iclcert::api
