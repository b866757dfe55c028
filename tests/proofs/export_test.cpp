// --export: every query is written as SMT-LIB2 with its header comment, and the
// z3 binary (Debian package z3) gives the same answer on a re-run: unsat for a
// proved step, sat for the deliberately false variant.
#include "proofs/lemmas.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace iclcert::proofs {
namespace {

std::string read(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::filesystem::path fresh_dir(const std::string& name) {
  const auto dir = std::filesystem::temp_directory_path() / ("iclcert_export_test_" + name);
  std::filesystem::remove_all(dir);
  return dir;
}

#ifdef ICLCERT_Z3_BINARY
std::string run_z3(const std::filesystem::path& file) {
  const std::string cmd = std::string(ICLCERT_Z3_BINARY) + " -T:30 '" + file.string() + "' 2>&1";
  FILE* pipe = popen(cmd.c_str(), "r");
  if (!pipe) return "popen failed";
  std::string out;
  char buf[256];
  while (fgets(buf, sizeof buf, pipe)) out += buf;
  pclose(pipe);
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  return out;
}
#endif

TEST(Export, EveryQueryIsWrittenWithItsHeader) {
  const auto dir = fresh_dir("a1u");
  LemmaOptions o;
  o.export_dir = dir.string();
  const LemmaResult r = prove_lemma("A1u", o);
  ASSERT_EQ(r.verdict, Verdict::proved);
  for (const auto& s : r.steps) {
    const std::string text = read(dir / (s.name + ".smt2"));
    EXPECT_NE(text.find("; iclcert query " + s.name), std::string::npos) << s.name;
    EXPECT_NE(text.find("; answer: unsat = the step holds"), std::string::npos) << s.name;
    EXPECT_NE(text.find("(check-sat"), std::string::npos) << s.name;
  }
#ifdef ICLCERT_Z3_BINARY
  // One identity step and one nlsat step, re-run by the z3 binary.
  EXPECT_EQ(run_z3(dir / "A1u.lagrange_identity.smt2"), "unsat");
  EXPECT_EQ(run_z3(dir / "A1u.rhs.sum_positive.smt2"), "unsat");
#endif
  std::filesystem::remove_all(dir);
}

TEST(Export, TheFalseVariantIsSatForTheZ3Binary) {
#ifndef ICLCERT_Z3_BINARY
  GTEST_SKIP() << "the z3 binary was not found at configure time (Debian package z3)";
#else
  const auto dir = fresh_dir("false");
  LemmaOptions o;
  o.export_dir = dir.string();
  const LemmaResult r = prove_lemma("A1-false", o);
  ASSERT_EQ(r.verdict, Verdict::refuted);
  EXPECT_EQ(run_z3(dir / "A1-false.factor_exceeds_one.smt2"), "sat");
  std::filesystem::remove_all(dir);
#endif
}

}  // namespace
}  // namespace iclcert::proofs
