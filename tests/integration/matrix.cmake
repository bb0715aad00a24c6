# careerbot against a fake Matrix homeserver on loopback (Python 3 standard
# library only). Included from tests/integration/CMakeLists.txt (or
# tests/CMakeLists.txt): include(integration/matrix.cmake)
find_package(Python3 COMPONENTS Interpreter)
if(NOT Python3_Interpreter_FOUND)
  message(WARNING "python3 not found: the Matrix integration tests are not registered")
  return()
endif()
add_test(NAME matrix_integration
         COMMAND ${Python3_EXECUTABLE} -m unittest -v test_matrix
         WORKING_DIRECTORY ${CMAKE_CURRENT_LIST_DIR})
set_tests_properties(matrix_integration PROPERTIES
                     ENVIRONMENT "CAREERBOT_BIN=$<TARGET_FILE:careerbot>;PYTHONDONTWRITEBYTECODE=1"
                     TIMEOUT 300)
