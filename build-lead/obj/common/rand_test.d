build-lead/obj/common/rand_test.o: common/rand_test.c common/rand.h \
 tests/testlib.h
common/rand.h:
tests/testlib.h:
