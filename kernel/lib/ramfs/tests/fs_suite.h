/* The VFS + ramfs checks, written once and run both in the guest (test_fs.c, as KTESTs) and
 * on the host under ASan/UBSan (host/harness.c). Each check works in its own directory under
 * FS_SUITE_DIR and removes it, so the two worlds see the same starting point. */
#ifndef RAMFS_FS_SUITE_H
#define RAMFS_FS_SUITE_H

struct fs_t {
	int failed;
	const char *file;
	int line;
	char msg[160];
};

#define FS_SUITE(X)            \
	X(create_write_read)   \
	X(open_flags)          \
	X(append_and_offsets)  \
	X(holes_and_truncate)  \
	X(dirs_and_getdents)   \
	X(getdents_resume)     \
	X(dot_dotdot)          \
	X(symlinks)            \
	X(symlink_loop)        \
	X(name_too_long)       \
	X(notdir_enoent)       \
	X(unlink_open_file)    \
	X(rename_cases)        \
	X(dup_fcntl)           \
	X(emfile)              \
	X(cwd)                 \
	X(mounts)              \
	X(enospc_keeps_data)   \
	X(borrowed_file)       \
	X(stat_fields)

/* Removes path and everything under it (errors ignored). */
void fs_suite_rm_tree(const char *path);

#define FS_DECL(name) void fs_t_##name(struct fs_t *t);
FS_SUITE(FS_DECL)
#undef FS_DECL

#endif
