#define CAF_SUITE support.process

#include "caf/test/unit_test.hpp"

#include <csignal>
#include <filesystem>

#include <unistd.h>

#include "tests/support/agent.hpp"
#include "tests/support/process.hpp"

using namespace istio_csr::test;

CAF_TEST(run reports exit code and both streams) {
  auto res = run({"/bin/sh", "-c", "echo out; echo err >&2; exit 3"});
  CAF_CHECK_EQUAL(res.exit_code, 3);
  CAF_CHECK_EQUAL(res.out, "out\n");
  CAF_CHECK_EQUAL(res.err, "err\n");
}

CAF_TEST(run feeds stdin and environment) {
  auto res = run({"/bin/sh", "-c", "cat; echo \"$ICSR_X\""}, 10s, "in\n",
                 {{"ICSR_X", "value"}});
  CAF_CHECK_EQUAL(res.exit_code, 0);
  CAF_CHECK_EQUAL(res.out, "in\nvalue\n");
}

CAF_TEST(run kills a command that outlives its timeout) {
  auto res = run({"/bin/sleep", "30"}, 200ms);
  CAF_CHECK_EQUAL(res.exit_code, -1);
}

CAF_TEST(child process lines and stop) {
  auto p = child_process::spawn(
    {"/bin/sh", "-c", "echo starting; echo ready at 42; exec sleep 30"});
  CAF_REQUIRE(p != nullptr);
  auto line = p->wait_for_line("ready at", 10s);
  CAF_REQUIRE(line.has_value());
  CAF_CHECK_EQUAL(*line, "ready at 42");
  CAF_CHECK(p->running());
  CAF_CHECK_EQUAL(p->stop(), 128 + SIGTERM);
  CAF_CHECK(!p->running());
}

CAF_TEST(wait_for_line gives up when the process exits) {
  auto p = child_process::spawn({"/bin/sh", "-c", "echo other; exit 1"});
  CAF_REQUIRE(p != nullptr);
  CAF_CHECK(!p->wait_for_line("never", 10s).has_value());
  CAF_CHECK_EQUAL(p->wait_exit(10s).value_or(-1), 1);
}

CAF_TEST(wait_until honours the deadline) {
  int calls = 0;
  CAF_CHECK(!wait_until([&] { return ++calls < 0; }, 50ms));
  CAF_CHECK(calls > 1);
  CAF_CHECK(wait_until([] { return true; }, 0ms));
}

CAF_TEST(temp_dir is removed) {
  std::string path;
  {
    temp_dir dir;
    path = dir.write("f", "x");
    CAF_CHECK_EQUAL(read_file(path), "x");
  }
  CAF_CHECK(!std::filesystem::exists(path));
}

CAF_TEST(the RSS and CPU time of a process come from proc) {
  // This process, read by its pid as another would be.
  auto rss = rss_bytes_of(static_cast<int>(::getpid()));
  CAF_CHECK_GREATER(rss, 1024u * 1024u);
  CAF_CHECK_EQUAL(rss_bytes_of(-1), 0u);
  // The peak is never below what is resident now.
  CAF_CHECK_GREATER_OR_EQUAL(peak_rss_bytes_of(static_cast<int>(::getpid())),
                             rss);
  CAF_CHECK_EQUAL(peak_rss_bytes_of(-1), 0u);
  auto spin_until = self_cpu_time() + 30ms;
  while (self_cpu_time() < spin_until) {
    // burn CPU time for the reading below
  }
  CAF_CHECK_GREATER_OR_EQUAL(cpu_time_of(static_cast<int>(::getpid())), 20ms);
  CAF_CHECK_EQUAL(cpu_time_of(-1).count(), 0);
}

CAF_TEST(metric_family reads the series of one family) {
  std::string text = "# TYPE a_total counter\n"
                     "a_total{code=\"200\",method=\"GET\"} 3\n"
                     "a_total{code=\"201\",method=\"POST\"} 2\n"
                     "a_total_other 7\n"
                     "b 1\n"
                     "a_total 5\n";
  auto samples = metric_family(text, "a_total");
  CAF_REQUIRE_EQUAL(samples.size(), 3u);
  CAF_CHECK_EQUAL(samples["{code=\"201\",method=\"POST\"}"], 2);
  CAF_CHECK_EQUAL(samples[""], 5);
  CAF_CHECK(metric_family(text, "c").empty());
}
