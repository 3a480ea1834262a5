# Helpers shared by every target of ours.

# Warnings as errors on our own code only; third-party headers come in as
# system includes through their imported targets.
#
# GCC 12 at -O2/-O3 reports std::string copies it inlined as possibly
# uninitialised or overlapping (GCC bugs 105651, 107138): those two stay
# warnings in optimised builds; Debug builds (make test) keep them errors.
function(icsr_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Werror)
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU"
     AND CMAKE_CXX_COMPILER_VERSION VERSION_GREATER_EQUAL 12)
    target_compile_options(${target} PRIVATE
      $<$<NOT:$<CONFIG:Debug>>:-Wno-error=maybe-uninitialized>
      $<$<NOT:$<CONFIG:Debug>>:-Wno-error=restrict>)
  endif()
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
  # Test headers too are included from the repository root
  # ("tests/support/process.hpp"): tests/X mirrors X, so a second root at
  # tests/ would make "X/header.hpp" ambiguous.
  target_include_directories(${name} PRIVATE "${PROJECT_SOURCE_DIR}")
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} caf::core)
  target_compile_definitions(${name} PRIVATE
    ICSR_BIN_DIR="${CMAKE_RUNTIME_OUTPUT_DIRECTORY}"
    ICSR_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
  icsr_warnings(${name})
  foreach(suite ${ARG_SUITES})
    # cmake/run_caf_suite.sh: only failed checks in the output; a suite
    # that skipped checks exits 77, which ctest reports as Skipped.
    add_test(NAME ${name}.${suite}
             COMMAND /bin/bash "${PROJECT_SOURCE_DIR}/cmake/run_caf_suite.sh"
                     $<TARGET_FILE:${name}> ${suite})
    # A suite name that matches nothing runs 0 tests: that must fail, not pass.
    set_tests_properties(${name}.${suite} PROPERTIES
      FAIL_REGULAR_EXPRESSION "tests:[ ]+0[\r\n]"
      SKIP_RETURN_CODE 77)
    if(ARG_LABELS)
      set_tests_properties(${name}.${suite} PROPERTIES LABELS "${ARG_LABELS}")
    endif()
  endforeach()
endfunction()

# The link closure of `target`: every library it links, directly or
# through others (LINK_LIBRARIES and INTERFACE_LINK_LIBRARIES, generator
# expressions stripped of `$<LINK_ONLY:...>`).
function(icsr_link_closure target out)
  set(seen "")
  set(queue ${target})
  while(queue)
    list(POP_FRONT queue item)
    string(REGEX REPLACE "^\\$<LINK_ONLY:(.*)>$" "\\1" item "${item}")
    if(item IN_LIST seen OR NOT TARGET ${item})
      continue()
    endif()
    list(APPEND seen ${item})
    get_target_property(imported ${item} IMPORTED)
    get_target_property(iface ${item} INTERFACE_LINK_LIBRARIES)
    if(iface)
      list(APPEND queue ${iface})
    endif()
    get_target_property(type ${item} TYPE)
    if(NOT imported AND NOT type STREQUAL "INTERFACE_LIBRARY")
      get_target_property(direct ${item} LINK_LIBRARIES)
      if(direct)
        list(APPEND queue ${direct})
      endif()
    endif()
  endwhile()
  set(${out} ${seen} PARENT_SCOPE)
endfunction()

# icsr_forbid_grpc(TARGET ...): these libraries must not depend on grpc++ or
# protobuf, neither by linking them (checked on the whole link closure when
# the project is configured) nor by including their headers (stub headers
# that fail with #error come first on their include path). The actors speak
# the signing_api domain; only grpc_bridge/ speaks gRPC.
function(icsr_forbid_grpc)
  foreach(target ${ARGN})
    target_include_directories(${target} BEFORE PRIVATE
      "${PROJECT_SOURCE_DIR}/cmake/forbidden_headers")
    icsr_link_closure(${target} closure)
    foreach(bad gRPC::grpc++ gRPC::grpc protobuf::libprotobuf icsr_proto
                icsr_grpc_bridge)
      if(bad IN_LIST closure)
        message(FATAL_ERROR "${target} must not depend on ${bad} (it would "
                            "link grpc++ or protobuf): see DEVELOPERS.md")
      endif()
    endforeach()
  endforeach()
endfunction()
