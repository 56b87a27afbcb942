# Helpers shared by every layer. A layer's library is every *.cc in its folder
# except tests, benchmarks and fuzzers; its tests are every *_test.cc beside them.

# tessera_library(NAME name DEPS ...): static library tessera_<name>, alias tessera::<name>.
function(tessera_library)
  cmake_parse_arguments(ARG "" "NAME" "SRCS;DEPS" ${ARGN})
  if(NOT ARG_SRCS)
    file(GLOB ARG_SRCS CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/*.cc)
    list(FILTER ARG_SRCS EXCLUDE REGEX "(_test|_benchmark|_fuzz|fuzz_replay_main)\\.cc$")
  endif()
  if(NOT ARG_SRCS)  # a layer whose first sources are still being written
    set(ARG_SRCS ${PROJECT_BINARY_DIR}/generated/empty_${ARG_NAME}.cc)
    file(WRITE ${ARG_SRCS} "")
  endif()
  add_library(tessera_${ARG_NAME} STATIC ${ARG_SRCS})
  add_library(tessera::${ARG_NAME} ALIAS tessera_${ARG_NAME})
  target_include_directories(tessera_${ARG_NAME} PUBLIC ${PROJECT_SOURCE_DIR}/include ${PROJECT_SOURCE_DIR}/src
                             ${PROJECT_BINARY_DIR}/generated)
  target_link_libraries(tessera_${ARG_NAME} PUBLIC ${ARG_DEPS})
endfunction()

# tessera_tests(DEPS ...): one gtest binary per *_test.cc in the current folder.
function(tessera_tests)
  if(NOT TESSERA_BUILD_TESTS)
    return()
  endif()
  cmake_parse_arguments(ARG "" "" "DEPS" ${ARGN})
  file(GLOB tests CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/*_test.cc)
  foreach(src ${tests})
    get_filename_component(name ${src} NAME_WE)
    add_executable(${name} ${src})
    target_link_libraries(${name} PRIVATE ${ARG_DEPS} tessera::testing GTest::gtest GTest::gtest_main GTest::gmock)
    # Paths reach tests as compile definitions: a ;-list in ENVIRONMENT is split by
    # gtest_discover_tests and all but the first variable silently lost.
    target_compile_definitions(${name} PRIVATE TESSERA_SOURCE_DIR="${PROJECT_SOURCE_DIR}"
                               TESSERA_BINARY_DIR="${PROJECT_BINARY_DIR}")
    gtest_discover_tests(${name} DISCOVERY_TIMEOUT 60 PROPERTIES FIXTURES_REQUIRED rgw
                         ENVIRONMENT TESSERA_TEST_RGW_DIR=${TESSERA_TEST_RGW_DIR})
  endforeach()
endfunction()

# tessera_benchmarks(DEPS ...): one Google Benchmark binary per *_benchmark.cc.
function(tessera_benchmarks)
  if(NOT TESSERA_BUILD_BENCHMARKS)
    return()
  endif()
  cmake_parse_arguments(ARG "" "" "DEPS" ${ARGN})
  file(GLOB benches CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/*_benchmark.cc)
  foreach(src ${benches})
    get_filename_component(name ${src} NAME_WE)
    add_executable(${name} ${src})
    target_link_libraries(${name} PRIVATE ${ARG_DEPS} benchmark::benchmark)
  endforeach()
endfunction()

# tessera_fuzzers(DEPS ...): one libFuzzer binary per *_fuzz.cc (clang only). Without
# libFuzzer each fuzzer is built as a replay driver over its seed corpus and run as a test.
function(tessera_fuzzers)
  cmake_parse_arguments(ARG "" "" "DEPS" ${ARGN})
  file(GLOB fuzzers CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/*_fuzz.cc)
  foreach(src ${fuzzers})
    get_filename_component(name ${src} NAME_WE)
    if(TESSERA_BUILD_FUZZERS)
      add_executable(${name} ${src})
      target_compile_options(${name} PRIVATE -fsanitize=fuzzer)
      target_link_options(${name} PRIVATE -fsanitize=fuzzer)
      target_link_libraries(${name} PRIVATE ${ARG_DEPS})
    elseif(TESSERA_BUILD_TESTS)
      add_executable(${name} ${src} ${PROJECT_SOURCE_DIR}/src/testing/fuzz_replay_main.cc)
      target_link_libraries(${name} PRIVATE ${ARG_DEPS} tessera::testing)
      add_test(NAME ${name}_replay COMMAND ${name})
    endif()
  endforeach()
endfunction()
