/* tmptree.h — for tests: removing the temporary directory a test made. */
#ifndef VIGIE_TEST_TMPTREE_H
#define VIGIE_TEST_TMPTREE_H

/* Removes dir and everything below it (symlinks not followed). 0 or -1. */
int rm_tree(const char *dir);

#endif
