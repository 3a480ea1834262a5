# Helpers shared by every target of ours.

# Warnings as errors on our own code only; third-party headers come in as
# system includes through their imported targets.
function(icsr_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Werror)
endfunction()

# icsr_library(NAME SOURCES ... DEPS ...): a static library whose headers are
# included as "<folder>/<file>.hpp" from the repository root.
function(icsr_library name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_library(${name} STATIC ${ARG_SOURCES})
  target_include_directories(${name} PUBLIC "${PROJECT_SOURCE_DIR}"
                                            "${PROJECT_BINARY_DIR}/generated")
  target_link_libraries(${name} PUBLIC ${ARG_DEPS})
  icsr_warnings(${name})
endfunction()

# icsr_program(NAME SOURCES ... DEPS ...): an executable in bin/.
function(icsr_program name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_include_directories(${name} PRIVATE "${PROJECT_SOURCE_DIR}")
  target_link_libraries(${name} PRIVATE ${ARG_DEPS})
  icsr_warnings(${name})
endfunction()

# icsr_caf_test(NAME SOURCES ... DEPS ... [SUITES s1 s2 ...]): a CAF 0.17 test
# program; each suite is registered with ctest as NAME.suite so that ctest's
# summary names what failed.
function(icsr_caf_test name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS;SUITES;LABELS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_include_directories(${name} PRIVATE "${PROJECT_SOURCE_DIR}"
                                             "${PROJECT_SOURCE_DIR}/tests")
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} caf::core)
  target_compile_definitions(${name} PRIVATE
    ICSR_BIN_DIR="${CMAKE_RUNTIME_OUTPUT_DIRECTORY}"
    ICSR_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
  icsr_warnings(${name})
  foreach(suite ${ARG_SUITES})
    # CAF 0.17 names a failed CAF_CHECK (file, line, expression) only at
    # console verbosity 5, which also lists every passed check ("** ..."):
    # run at 5 and drop the passed ones, so a failure in CI says which check.
    add_test(NAME ${name}.${suite}
             COMMAND /bin/bash -o pipefail -c
               "\"$0\" -r 300 -n -v 5 -s \"^$1$\" 2>&1 | grep -v '^\\*\\* '"
               $<TARGET_FILE:${name}> ${suite})
    # A suite name that matches nothing runs 0 tests: that must fail, not pass.
    set_tests_properties(${name}.${suite} PROPERTIES
      FAIL_REGULAR_EXPRESSION "tests:[ ]+0[\r\n]")
    if(ARG_LABELS)
      set_tests_properties(${name}.${suite} PROPERTIES LABELS "${ARG_LABELS}")
    endif()
  endforeach()
endfunction()
