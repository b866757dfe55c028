// `iclcert prove` output paths, run as a user runs it: a bad --export or --json
// gives status 2 with a line naming the path, and leaves nothing written (no
// export directory, no staging directory, no verdict file).
#include "support/cli_runner.hpp"

#include <set>

namespace iclcert::testing {
namespace {

namespace fs = std::filesystem;

std::set<std::string> listing(const fs::path& dir) {
  std::set<std::string> names;
  for (const auto& e : fs::directory_iterator(dir)) names.insert(e.path().filename().string());
  return names;
}

using ProveCli = CliTest;

TEST_F(ProveCli, ABadJsonPathLeavesNoExport) {
  const CliResult r = iclcert("prove --lemma E1 --export " + path("smt") + " --json " + path("missing/v.json"));
  EXPECT_EQ(r.status, 2) << r.output;
  EXPECT_NE(r.output.find(path("missing/v.json")), std::string::npos) << r.output;
  EXPECT_TRUE(listing(dir_).empty()) << "files were written: " << *listing(dir_).begin();
}

TEST_F(ProveCli, AJsonPathThatIsADirectoryLeavesNoExport) {
  fs::create_directory(path("d"));
  const CliResult r = iclcert("prove --lemma A1-false --export " + path("smt") + " --json " + path("d"));
  EXPECT_EQ(r.status, 2) << r.output;
  EXPECT_EQ(listing(dir_), std::set<std::string>{"d"});
  EXPECT_TRUE(listing(path("d")).empty());
}

TEST_F(ProveCli, AJsonPathThatIsTheExportDirectoryIsBadInput) {
  const CliResult r = iclcert("prove --lemma E1 --export " + path("out") + "/ --json " + path("out"));
  EXPECT_EQ(r.status, 2) << r.output;
  EXPECT_NE(r.output.find("is also the --export directory"), std::string::npos) << r.output;
  EXPECT_TRUE(listing(dir_).empty());
}

TEST_F(ProveCli, ExportUnderProcIsBadInput) {
  const CliResult r = iclcert("prove --lemma E1 --export /proc/iclcert_export_test");
  EXPECT_EQ(r.status, 2) << r.output;
  EXPECT_NE(r.output.find("--export /proc/iclcert_export_test"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("internal error"), std::string::npos) << r.output;
}

TEST_F(ProveCli, ExportNamingAFileIsBadInputAndTheFileIsKept) {
  const std::string file = write("notes.txt", "keep me\n");
  const CliResult r = iclcert("prove --lemma E1 --export " + file);
  EXPECT_EQ(r.status, 2) << r.output;
  EXPECT_NE(r.output.find(file + ": exists and is not a directory"), std::string::npos) << r.output;
  std::ifstream in(file);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(text, "keep me\n");
  EXPECT_EQ(listing(dir_), std::set<std::string>{"notes.txt"});
}

TEST_F(ProveCli, ExportWhoseParentIsMissingIsBadInput) {
  const CliResult r = iclcert("prove --lemma E1 --export " + path("no/such/dir"));
  EXPECT_EQ(r.status, 2) << r.output;
  EXPECT_NE(r.output.find("--export " + path("no/such/dir")), std::string::npos) << r.output;
  EXPECT_TRUE(listing(dir_).empty());
}

TEST_F(ProveCli, ASuccessfulExportWritesEveryQueryAndNoStagingDirectory) {
  const CliResult r = iclcert("prove --lemma E1 --export " + path("smt") + "/ --json " + path("v.json"));
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(listing(dir_), (std::set<std::string>{"smt", "v.json"}));
  EXPECT_EQ(listing(path("smt")).size(), 6u);  // E1: 2 kernels x 3 transpositions
  EXPECT_EQ(listing(path("smt")).count("E1.softmax.token.smt2"), 1u);
}

TEST_F(ProveCli, AnExistingDirectoryKeepsItsOtherFiles) {
  fs::create_directory(path("smt"));
  write("smt/README", "mine\n");
  const CliResult r = iclcert("prove --lemma A1-false --export " + path("smt"));
  EXPECT_EQ(r.status, 1) << r.output;  // refuted, as it must be
  EXPECT_EQ(listing(path("smt")), (std::set<std::string>{"A1-false.factor_exceeds_one.smt2", "README"}));
  EXPECT_EQ(listing(dir_), std::set<std::string>{"smt"});
}

}  // namespace
}  // namespace iclcert::testing
