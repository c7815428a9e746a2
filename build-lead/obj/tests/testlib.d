build-lead/obj/tests/testlib.o: tests/testlib.c tests/testlib.h
tests/testlib.h:
