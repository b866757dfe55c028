// --export: every query of every lemma is written as SMT-LIB2 with its header
// comment, and two independent solvers, the z3 binary (Debian package z3) and
// cvc5 (Debian package cvc5), re-run every file as it is and answer exactly what
// the lemma needs: unsat for each step of a proved lemma (and of A2's
// counterexample check), sat for the deliberately false variant. Any other
// output (a parse error, which z3 prints as "(error ...)" before going on to
// answer, or an "unsupported" line) fails the test.
#include "proofs/lemmas.hpp"
#include "proofs/smt_symbol.hpp"

#include "solver_limits.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <tuple>
#include <sys/wait.h>
#include <unistd.h>

namespace iclcert::proofs {
namespace {

namespace fs = std::filesystem;

struct Solver {
  const char* name;
  const char* binary;  // empty when not found at configure time
  std::string args;    // before the file name
};

#ifndef ICLCERT_Z3_BINARY
#define ICLCERT_Z3_BINARY ""
#endif
#ifndef ICLCERT_CVC5_BINARY
#define ICLCERT_CVC5_BINARY ""
#endif

// Resource limits, not time limits (solver_limits.hpp): the same answer on a busy machine.
const Solver kZ3{"z3", ICLCERT_Z3_BINARY, test_limits::kZ3BinaryLimit};
const Solver kCvc5{"cvc5", ICLCERT_CVC5_BINARY, test_limits::kCvc5BinaryLimit};

// Everything the solver printed (stdout and stderr), trailing newlines dropped.
std::string run(const Solver& s, const fs::path& file) {
  const std::string cmd = std::string(s.binary) + " " + s.args + " '" + file.string() + "' 2>&1";
  FILE* pipe = popen(cmd.c_str(), "r");
  if (!pipe) return "popen failed";
  std::string out;
  char buf[4096];
  while (std::size_t n = fread(buf, 1, sizeof buf, pipe)) out.append(buf, n);
  pclose(pipe);
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  return out;
}

fs::path fresh_dir(const std::string& name) {
  const auto dir = fs::temp_directory_path() / ("iclcert_export_test_" + std::to_string(::getpid()) + "_" + name);
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

// Proved once, re-run by each solver.
const LemmaResult& exported(const std::string& lemma, int classes = 3) {
  static std::map<std::pair<std::string, int>, LemmaResult> cache;
  const auto key = std::make_pair(lemma, classes);
  if (!cache.count(key)) {
    LemmaOptions o;
    o.classes = classes;
    o.export_smtlib = true;
    o.timeout_ms = 0;  // no wall clock: the resource limit alone
    o.rlimit = test_limits::kInProcessRlimit;
    cache[key] = prove_lemma(lemma, o);
  }
  return cache.at(key);
}

// Writes every file of `r` and has `solver` re-run it: the whole output must be
// `expected` (unsat, or sat for A1-false).
void rerun_every_file(const LemmaResult& r, const Solver& solver, const std::string& expected) {
  if (std::string(solver.binary).empty())
    GTEST_SKIP() << "the " << solver.name << " binary was not found at configure time (Debian package "
                 << solver.name << "; scripts/install-deps.sh --test installs it): its re-run is skipped";
  ASSERT_FALSE(r.smtlib.empty()) << r.lemma;
  const fs::path dir = fresh_dir(r.lemma + "_" + solver.name);
  for (const SmtFile& f : r.smtlib) {
    const fs::path p = dir / (f.name + ".smt2");
    std::ofstream(p) << f.text;
    EXPECT_EQ(run(solver, p), expected) << solver.name << " on " << f.name << ".smt2";
  }
  fs::remove_all(dir);
}

void expect_headers(const LemmaResult& r) {
  ASSERT_EQ(r.smtlib.size(), r.steps.size()) << r.lemma << ": one file per query";
  for (std::size_t i = 0; i < r.steps.size(); ++i) {
    const std::string& text = r.smtlib[i].text;
    EXPECT_EQ(r.smtlib[i].name, r.steps[i].name);
    EXPECT_NE(text.find("; iclcert query " + r.steps[i].name), std::string::npos) << r.steps[i].name;
    EXPECT_NE(text.find("; answer: unsat = the step holds"), std::string::npos) << r.steps[i].name;
    EXPECT_NE(text.find("(set-logic "), std::string::npos) << r.steps[i].name;
    EXPECT_NE(text.find("(check-sat)"), std::string::npos) << r.steps[i].name;
  }
}

// Every lemma that has queries: its exports, re-run by each solver, give `answer`.
struct Exported {
  const char* test;  // the test's name
  const char* lemma;
  int classes;
  Verdict verdict;
  const char* answer;
};
const Exported kExported[] = {
    {"A1TwoClasses", "A1", 2, Verdict::proved, "unsat"},
    {"A1ThreeClasses", "A1", 3, Verdict::proved, "unsat"},  // the default of `prove --lemma A1`
    {"A1u", "A1u", 3, Verdict::proved, "unsat"},
    {"E1", "E1", 3, Verdict::proved, "unsat"},
    {"A2CounterexampleCheck", "A2", 3, Verdict::refuted, "unsat"},
    {"TheFalseVariantIsSat", "A1-false", 3, Verdict::refuted, "sat"},
};

class EveryFile : public ::testing::TestWithParam<std::tuple<Exported, Solver>> {};

TEST_P(EveryFile, RerunsToTheExpectedAnswer) {
  const auto& [e, solver] = GetParam();
  const LemmaResult& r = exported(e.lemma, e.classes);
  ASSERT_EQ(r.verdict, e.verdict);
  expect_headers(r);
  rerun_every_file(r, solver, e.answer);
}

INSTANTIATE_TEST_SUITE_P(Solvers, EveryFile, ::testing::Combine(::testing::ValuesIn(kExported), ::testing::Values(kZ3, kCvc5)),
                         [](const auto& info) {
                           return std::string(std::get<0>(info.param).test) + "_" + std::get<1>(info.param).name;
                         });

TEST(Export, TheMultiLayerSearchHasNoQueries) {
  EXPECT_TRUE(exported("A1u-layers").smtlib.empty());
}

// The root of the `n'` defect: a name that is not an SMT-LIB2 simple symbol is
// quoted, and an export refuses a formula with a name that was not.
TEST(Export, SymbolNamesAreLegalSmtLib) {
  EXPECT_EQ(smt_symbol("alpha_label"), "alpha_label");
  EXPECT_EQ(smt_symbol("x_0_1"), "x_0_1");
  EXPECT_EQ(smt_symbol("n'"), "|n'|");
  EXPECT_EQ(smt_symbol("1x"), "|1x|");
  EXPECT_EQ(smt_symbol("a b"), "|a b|");
  EXPECT_EQ(smt_symbol("let"), "|let|");
  EXPECT_THROW(smt_symbol("a|b"), std::invalid_argument);
  EXPECT_THROW(smt_symbol(""), std::invalid_argument);
  z3::context ctx;
  const z3::expr good = real_symbol(ctx, "n'"), bad = ctx.real_const("n'");
  EXPECT_NO_THROW(to_smtlib({"ok", "", good > 0, Method::nlsat}));
  EXPECT_THROW(to_smtlib({"bad", "", good + bad > 0, Method::nlsat}), std::logic_error);
}

}  // namespace
}  // namespace iclcert::proofs
