/* tmptree.c — see tmptree.h. */
#include "tmptree.h"

#include <ftw.h>
#include <stdio.h>
#include <sys/stat.h>

static int
rm_entry(const char *p, const struct stat *sb, int flag, struct FTW *f)
{
    (void)sb;
    (void)flag;
    (void)f;
    return remove(p);
}

int
rm_tree(const char *dir)
{
    return nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}
