/* ramfs: nodes and directory entries in malloc'd memory. Directory entries are a list in
 * insertion order; each gets a sequence number from its directory, which is the readdir
 * cookie, so a listing survives entries being added and removed between calls. File data is
 * a table of 4 KiB pages: a file grows without copying what it holds (a doubling buffer would
 * need three times the file's size while it grows), and holes cost nothing. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <ramfs/ramfs.h>
#include <vfs/vnode.h>

struct ramfs {
	uint64_t max_bytes, used_bytes;
	uint64_t next_ino;
};

struct ramfs_dirent {
	struct ramfs_dirent *next, *prev;
	struct ramfs_node *node;
	uint64_t seq; /* readdir cookie: entries are kept in increasing seq */
	size_t len;
	char name[];
};

struct ramfs_node {
	struct vnode vn;
	struct ramfs *fs;
	uint32_t perm; /* permission bits */
	uint32_t nlink;
	uint64_t atime, mtime, ctime; /* vfs_stamp() values */
	union {
		struct {
			/* Pages of RPAGE bytes, NULL for a hole (reads as zeros); page 0 may be
			 * smaller (cap0 bytes, grown as it fills), so a small file costs little. */
			uint8_t **pages;
			size_t npages; /* slots in the table */
			uint32_t cap0;
			uint64_t size;
			uint64_t charged;        /* bytes this file's data holds against the limit */
			const uint8_t *borrowed; /* the data is someone else's (ramfs_file_borrow) */
		} file;
		struct {
			struct ramfs_dirent *head, *tail;
			struct ramfs_node *parent; /* NULL once removed; the root is its own parent */
			uint64_t next_seq;
		} dir;
		struct {
			char *target;
			size_t len;
		} link;
	} u;
};

#define FIRST_SEQ 2 /* cookies 0 and 1 are "." and ".." */
#define RPAGE 4096u

static const struct vnode_ops ramfs_ops;

static struct ramfs_node *N(struct vnode *vn) { return (struct ramfs_node *)vn; }

int ramfs_is_ramfs(const struct vnode *vn) { return vn->ops == &ramfs_ops; }
uint64_t ramfs_used_bytes(const struct vnode *vn) { return ((const struct ramfs_node *)vn)->fs->used_bytes; }

static int charge(struct ramfs *fs, uint64_t bytes)
{
	if (fs->max_bytes && (bytes > fs->max_bytes || fs->used_bytes > fs->max_bytes - bytes))
		return -ENOSPC;
	fs->used_bytes += bytes;
	return 0;
}
static void uncharge(struct ramfs *fs, uint64_t bytes) { fs->used_bytes -= bytes; }

static void touch(struct ramfs_node *n, int what) /* 1 atime, 2 mtime, 4 ctime */
{
	uint64_t t = vfs_stamp();
	if (what & 1)
		n->atime = t;
	if (what & 2)
		n->mtime = t;
	if (what & 4)
		n->ctime = t;
}

static struct ramfs_node *new_node(struct ramfs *fs, uint32_t type, uint32_t perm, int *err)
{
	if ((*err = charge(fs, sizeof(struct ramfs_node))))
		return NULL;
	struct ramfs_node *n = calloc(1, sizeof(*n));
	if (!n) {
		uncharge(fs, sizeof(*n));
		*err = -ENOMEM;
		return NULL;
	}
	vfs_vnode_init(&n->vn, &ramfs_ops, type, ++fs->next_ino);
	n->fs = fs;
	n->perm = perm & 07777;
	n->nlink = type == VFS_S_IFDIR ? 2 : 1;
	if (type == VFS_S_IFDIR)
		n->u.dir.next_seq = FIRST_SEQ;
	touch(n, 7);
	return n;
}

static void free_node(struct ramfs_node *n)
{
	struct ramfs *fs = n->fs;
	if (n->vn.type == VFS_S_IFREG) {
		for (size_t i = 0; i < n->u.file.npages; i++)
			free(n->u.file.pages[i]);
		free(n->u.file.pages);
		uncharge(fs, n->u.file.charged);
	} else if (n->vn.type == VFS_S_IFLNK) {
		free(n->u.link.target);
		uncharge(fs, n->u.link.len);
	}
	free(n);
	uncharge(fs, sizeof(*n));
}

/* Freed once it is neither linked nor referenced. */
static void maybe_free(struct ramfs_node *n)
{
	if (n->nlink == 0 && n->vn.refs == 0)
		free_node(n);
}

static void ramfs_inactive(struct vnode *vn) { maybe_free(N(vn)); }

static struct ramfs_dirent *find(struct ramfs_node *dir, const char *name, size_t len)
{
	for (struct ramfs_dirent *e = dir->u.dir.head; e; e = e->next)
		if (e->len == len && memcmp(e->name, name, len) == 0)
			return e;
	return NULL;
}

static int link_into(struct ramfs_node *dir, const char *name, size_t len, struct ramfs_node *n)
{
	int err = charge(dir->fs, sizeof(struct ramfs_dirent) + len);
	if (err)
		return err;
	struct ramfs_dirent *e = malloc(sizeof(*e) + len);
	if (!e) {
		uncharge(dir->fs, sizeof(*e) + len);
		return -ENOMEM;
	}
	memcpy(e->name, name, len);
	e->len = len;
	e->node = n;
	e->seq = dir->u.dir.next_seq++;
	e->next = NULL;
	e->prev = dir->u.dir.tail;
	if (e->prev)
		e->prev->next = e;
	else
		dir->u.dir.head = e;
	dir->u.dir.tail = e;
	if (n->vn.type == VFS_S_IFDIR) {
		n->u.dir.parent = dir;
		dir->nlink++;
	}
	touch(dir, 6);
	return 0;
}

/* Takes the entry out of dir's list and frees it; the node is left to the caller. */
static void detach(struct ramfs_node *dir, struct ramfs_dirent *e)
{
	if (e->prev)
		e->prev->next = e->next;
	else
		dir->u.dir.head = e->next;
	if (e->next)
		e->next->prev = e->prev;
	else
		dir->u.dir.tail = e->prev;
	uncharge(dir->fs, sizeof(*e) + e->len);
	free(e);
	touch(dir, 6);
}

/* Removes the entry; the node loses a link (and, for a directory, its parent). */
static void unlink_entry(struct ramfs_node *dir, struct ramfs_dirent *e)
{
	struct ramfs_node *n = e->node;
	detach(dir, e);
	touch(n, 4);
	if (n->vn.type == VFS_S_IFDIR) {
		dir->nlink--;
		n->nlink = 0; /* its "." and its entry both go */
		n->u.dir.parent = NULL;
	} else {
		n->nlink--;
	}
	maybe_free(n);
}

static int ramfs_lookup(struct vnode *dvn, const char *name, size_t len, struct vnode **out)
{
	struct ramfs_node *dir = N(dvn);
	if (len == 1 && name[0] == '.') {
		*out = vfs_vnode_ref(dvn);
		return 0;
	}
	if (len == 2 && name[0] == '.' && name[1] == '.') {
		if (!dir->u.dir.parent)
			return -ENOENT; /* removed */
		*out = vfs_vnode_ref(&dir->u.dir.parent->vn);
		return 0;
	}
	struct ramfs_dirent *e = find(dir, name, len);
	if (!e)
		return -ENOENT;
	*out = vfs_vnode_ref(&e->node->vn);
	return 0;
}

/* A new node linked as dir/name; *out with a reference, if asked for. */
static int make(struct vnode *dvn, const char *name, size_t len, uint32_t type, uint32_t perm, struct ramfs_node **out)
{
	struct ramfs_node *dir = N(dvn);
	if (!dir->u.dir.parent)
		return -ENOENT; /* a removed directory takes no new entries */
	if (find(dir, name, len))
		return -EEXIST;
	int err;
	struct ramfs_node *n = new_node(dir->fs, type, perm, &err);
	if (!n)
		return err;
	if ((err = link_into(dir, name, len, n))) {
		n->nlink = 0;
		maybe_free(n);
		return err;
	}
	*out = n;
	return 0;
}

static int ramfs_create(struct vnode *dir, const char *name, size_t len, uint32_t mode, struct vnode **out)
{
	struct ramfs_node *n;
	int err = make(dir, name, len, VFS_S_IFREG, mode, &n);
	if (!err)
		*out = vfs_vnode_ref(&n->vn);
	return err;
}

static int ramfs_mkdir(struct vnode *dir, const char *name, size_t len, uint32_t mode)
{
	struct ramfs_node *n;
	return make(dir, name, len, VFS_S_IFDIR, mode, &n);
}

static int ramfs_symlink(struct vnode *dvn, const char *name, size_t len, const char *target, size_t tlen)
{
	struct ramfs *fs = N(dvn)->fs;
	int err = charge(fs, tlen);
	if (err)
		return err;
	char *t = malloc(tlen);
	if (!t) {
		uncharge(fs, tlen);
		return -ENOMEM;
	}
	memcpy(t, target, tlen);
	struct ramfs_node *n;
	err = make(dvn, name, len, VFS_S_IFLNK, 0777, &n);
	if (err) {
		free(t);
		uncharge(fs, tlen);
		return err;
	}
	n->u.link.target = t;
	n->u.link.len = tlen;
	return 0;
}

static int ramfs_unlink(struct vnode *dvn, const char *name, size_t len)
{
	struct ramfs_dirent *e = find(N(dvn), name, len);
	if (!e)
		return -ENOENT;
	if (e->node->vn.type == VFS_S_IFDIR)
		return -EISDIR;
	unlink_entry(N(dvn), e);
	return 0;
}

static int ramfs_rmdir(struct vnode *dvn, const char *name, size_t len)
{
	struct ramfs_dirent *e = find(N(dvn), name, len);
	if (!e)
		return -ENOENT;
	if (e->node->vn.type != VFS_S_IFDIR)
		return -ENOTDIR;
	if (e->node->u.dir.head)
		return -ENOTEMPTY;
	unlink_entry(N(dvn), e);
	return 0;
}

static int ramfs_rename(struct vnode *odvn, const char *oname, size_t olen, struct vnode *ndvn, const char *nname, size_t nlen)
{
	struct ramfs_node *odir = N(odvn), *ndir = N(ndvn);
	struct ramfs_dirent *oe = find(odir, oname, olen);
	if (!oe)
		return -ENOENT;
	if (!ndir->u.dir.parent)
		return -ENOENT;
	struct ramfs_node *n = oe->node;
	struct ramfs_dirent *ne = find(ndir, nname, nlen);
	if (ne && ne->node == n)
		return 0;
	if (ne && ne->node->vn.type == VFS_S_IFDIR && ne->node->u.dir.head)
		return -ENOTEMPTY;
	/* The new entry first, so a failure leaves everything as it was. */
	n->nlink++; /* held across the move */
	int err = link_into(ndir, nname, nlen, n);
	if (err) {
		n->nlink--;
		return err;
	}
	/* link_into counted a directory's new ".." in ndir; the old one leaves odir. */
	if (ne)
		unlink_entry(ndir, ne);
	detach(odir, oe);
	n->nlink--;
	if (n->vn.type == VFS_S_IFDIR)
		odir->nlink--;
	touch(n, 4);
	return 0;
}

static unsigned dtype_of(uint32_t type)
{
	switch (type) {
	case VFS_S_IFDIR: return VFS_DT_DIR;
	case VFS_S_IFREG: return VFS_DT_REG;
	case VFS_S_IFLNK: return VFS_DT_LNK;
	case VFS_S_IFCHR: return VFS_DT_CHR;
	default: return VFS_DT_UNKNOWN;
	}
}

static int ramfs_readdir(struct vnode *dvn, uint64_t *pos, vfs_filldir_fn fill, void *ctx)
{
	struct ramfs_node *dir = N(dvn);
	if (*pos == 0) {
		if (fill(ctx, ".", 1, dvn->ino, VFS_DT_DIR, 1))
			return 0;
		*pos = 1;
	}
	if (*pos == 1) {
		struct ramfs_node *p = dir->u.dir.parent ? dir->u.dir.parent : dir;
		if (fill(ctx, "..", 2, p->vn.ino, VFS_DT_DIR, FIRST_SEQ))
			return 0;
		*pos = FIRST_SEQ;
	}
	for (struct ramfs_dirent *e = dir->u.dir.head; e; e = e->next) {
		if (e->seq < *pos)
			continue;
		uint64_t next = e->next ? e->next->seq : dir->u.dir.next_seq;
		if (fill(ctx, e->name, e->len, e->node->vn.ino, dtype_of(e->node->vn.type), next))
			return 0;
		*pos = next;
	}
	*pos = dir->u.dir.next_seq > *pos ? dir->u.dir.next_seq : *pos;
	touch(dir, 1);
	return 0;
}

/* ---- file data ---- */

static uint32_t page_cap(const struct ramfs_node *n, size_t i)
{
	return i == 0 ? n->u.file.cap0 : RPAGE;
}

/* Makes page i hold at least `upto` bytes (1..RPAGE); new bytes are zero. 0 or -ENOSPC. */
static int ensure_page(struct ramfs_node *n, size_t i, uint32_t upto)
{
	struct ramfs *fs = n->fs;
	if (i >= n->u.file.npages) {
		size_t slots = n->u.file.npages ? n->u.file.npages * 2 : 4;
		if (slots <= i)
			slots = i + 1;
		if (slots > SIZE_MAX / sizeof(uint8_t *) || charge(fs, (slots - n->u.file.npages) * sizeof(uint8_t *)))
			return -ENOSPC;
		uint8_t **t = realloc(n->u.file.pages, slots * sizeof(uint8_t *));
		if (!t) {
			uncharge(fs, (slots - n->u.file.npages) * sizeof(uint8_t *));
			return -ENOSPC;
		}
		memset(t + n->u.file.npages, 0, (slots - n->u.file.npages) * sizeof(uint8_t *));
		n->u.file.charged += (slots - n->u.file.npages) * sizeof(uint8_t *);
		n->u.file.pages = t;
		n->u.file.npages = slots;
	}
	uint32_t have = n->u.file.pages[i] ? page_cap(n, i) : 0;
	if (have >= upto)
		return 0;
	uint32_t want = RPAGE;
	if (i == 0) { /* page 0 doubles up to a whole page */
		want = have ? have * 2 : 64;
		while (want < upto)
			want *= 2;
		if (want > RPAGE)
			want = RPAGE;
	}
	if (charge(fs, want - have))
		return -ENOSPC;
	uint8_t *p = realloc(n->u.file.pages[i], want);
	if (!p) {
		uncharge(fs, want - have);
		return -ENOSPC;
	}
	memset(p + have, 0, want - have);
	n->u.file.pages[i] = p;
	n->u.file.charged += want - have;
	if (i == 0)
		n->u.file.cap0 = want;
	return 0;
}

/* Borrowed bytes become pages of the file's own before the first change. */
static int unborrow(struct ramfs_node *n)
{
	const uint8_t *src = n->u.file.borrowed;
	if (!src)
		return 0;
	uint64_t size = n->u.file.size;
	uncharge(n->fs, n->u.file.charged);
	n->u.file.charged = 0;
	n->u.file.borrowed = NULL;
	for (uint64_t off = 0; off < size; off += RPAGE) {
		uint32_t k = size - off < RPAGE ? (uint32_t)(size - off) : RPAGE;
		int err = ensure_page(n, (size_t)(off / RPAGE), k);
		if (err) { /* give the borrowed view back: nothing changed */
			for (size_t i = 0; i < n->u.file.npages; i++) {
				free(n->u.file.pages[i]);
				n->u.file.pages[i] = NULL;
			}
			uncharge(n->fs, n->u.file.charged);
			n->u.file.charged = 0;
			n->u.file.cap0 = 0;
			charge(n->fs, size); /* fit before, fits again */
			n->u.file.charged = size;
			n->u.file.borrowed = src;
			return err;
		}
		memcpy(n->u.file.pages[off / RPAGE], src + off, k);
	}
	return 0;
}

static long ramfs_read(struct vnode *vn, void *buf, size_t len, uint64_t off, int flags)
{
	(void)flags;
	struct ramfs_node *n = N(vn);
	if (off >= n->u.file.size)
		return 0;
	uint64_t avail = n->u.file.size - off;
	size_t total = avail < len ? (size_t)avail : len;
	if (n->u.file.borrowed) {
		memcpy(buf, n->u.file.borrowed + off, total);
	} else {
		uint8_t *out = buf;
		for (size_t done = 0; done < total;) {
			size_t i = (size_t)((off + done) / RPAGE);
			uint32_t at = (uint32_t)((off + done) % RPAGE);
			size_t k = RPAGE - at < total - done ? RPAGE - at : total - done;
			const uint8_t *p = i < n->u.file.npages ? n->u.file.pages[i] : NULL;
			uint32_t cap = p ? page_cap(n, i) : 0;
			size_t from_page = at < cap ? (cap - at < k ? cap - at : k) : 0;
			if (from_page)
				memcpy(out + done, p + at, from_page);
			memset(out + done + from_page, 0, k - from_page); /* a hole, or past page 0's end */
			done += k;
		}
	}
	touch(n, 1);
	return (long)total;
}

static long ramfs_write(struct vnode *vn, const void *buf, size_t len, uint64_t off, int flags)
{
	(void)flags;
	struct ramfs_node *n = N(vn);
	if (len == 0)
		return 0;
	int err = unborrow(n);
	if (err)
		return err;
	const uint8_t *in = buf;
	size_t done = 0;
	while (done < len) {
		size_t i = (size_t)((off + done) / RPAGE);
		uint32_t at = (uint32_t)((off + done) % RPAGE);
		size_t k = RPAGE - at < len - done ? RPAGE - at : len - done;
		if ((err = ensure_page(n, i, at + (uint32_t)k)) != 0)
			break; /* full: keep what was written (a short count); the next write fails */
		memcpy(n->u.file.pages[i] + at, in + done, k);
		done += k;
	}
	if (done == 0)
		return err;
	if (off + done > n->u.file.size)
		n->u.file.size = off + done;
	touch(n, 6);
	return (long)done;
}

static int ramfs_truncate(struct vnode *vn, uint64_t size)
{
	struct ramfs_node *n = N(vn);
	if (n->u.file.borrowed && size <= n->u.file.size) {
		n->u.file.size = size; /* still a prefix of the borrowed bytes */
	} else {
		int err = unborrow(n);
		if (err)
			return err;
		/* Pages wholly past the end go back to the heap; the rest of the last page is
		 * zeroed so growing the file again reads zeros there. Growing allocates nothing. */
		size_t keep = (size_t)((size + RPAGE - 1) / RPAGE);
		for (size_t i = keep; i < n->u.file.npages; i++) {
			if (!n->u.file.pages[i])
				continue;
			uint32_t cap = page_cap(n, i);
			free(n->u.file.pages[i]);
			n->u.file.pages[i] = NULL;
			uncharge(n->fs, cap);
			n->u.file.charged -= cap;
			if (i == 0)
				n->u.file.cap0 = 0;
		}
		if (size % RPAGE && keep - 1 < n->u.file.npages && n->u.file.pages[keep - 1]) {
			uint32_t at = (uint32_t)(size % RPAGE), cap = page_cap(n, keep - 1);
			if (at < cap)
				memset(n->u.file.pages[keep - 1] + at, 0, cap - at);
		}
		n->u.file.size = size;
	}
	touch(n, 6);
	return 0;
}

static int ramfs_getattr(struct vnode *vn, struct vfs_stat *st)
{
	struct ramfs_node *n = N(vn);
	st->st_mode = vn->type | n->perm;
	st->st_nlink = n->nlink;
	st->st_uid = st->st_gid = 0;
	st->st_blksize = 4096;
	if (vn->type == VFS_S_IFREG)
		st->st_size = (int64_t)n->u.file.size;
	else if (vn->type == VFS_S_IFLNK)
		st->st_size = (int64_t)n->u.link.len;
	else
		st->st_size = 4096;
	if (vn->type == VFS_S_IFREG)
		st->st_blocks = (int64_t)((n->u.file.charged + 511) / 512); /* what the data holds, holes excluded */
	else
		st->st_blocks = (st->st_size + 511) / 512;
	vfs_stamp_time(n->atime, &st->st_atim);
	vfs_stamp_time(n->mtime, &st->st_mtim);
	vfs_stamp_time(n->ctime, &st->st_ctim);
	return 0;
}

static long ramfs_readlink(struct vnode *vn, char *buf, size_t len)
{
	struct ramfs_node *n = N(vn);
	memcpy(buf, n->u.link.target, n->u.link.len < len ? n->u.link.len : len);
	return (long)n->u.link.len;
}

static const struct vnode_ops ramfs_ops = {
	.lookup = ramfs_lookup,
	.create = ramfs_create,
	.mkdir = ramfs_mkdir,
	.symlink = ramfs_symlink,
	.unlink = ramfs_unlink,
	.rmdir = ramfs_rmdir,
	.rename = ramfs_rename,
	.readdir = ramfs_readdir,
	.read = ramfs_read,
	.write = ramfs_write,
	.truncate = ramfs_truncate,
	.getattr = ramfs_getattr,
	.readlink = ramfs_readlink,
	.inactive = ramfs_inactive,
};

int ramfs_file_borrow(struct vnode *vn, const void *data, size_t len)
{
	if (!ramfs_is_ramfs(vn) || vn->type != VFS_S_IFREG)
		return -EINVAL;
	struct ramfs_node *n = N(vn);
	if (n->u.file.size || n->u.file.charged)
		return -EINVAL;
	int err = charge(n->fs, len);
	if (err)
		return err;
	n->u.file.borrowed = data;
	n->u.file.size = len;
	n->u.file.charged = len;
	return 0;
}

static int ramfs_mount(const struct vfs_fstype *type, const void *data, struct vnode **root)
{
	(void)type;
	const struct ramfs_options *o = data;
	struct ramfs *fs = calloc(1, sizeof(*fs));
	if (!fs)
		return -ENOMEM;
	fs->max_bytes = o ? o->max_bytes : 0;
	int err;
	struct ramfs_node *r = new_node(fs, VFS_S_IFDIR, 0755, &err);
	if (!r) {
		free(fs);
		return err;
	}
	r->u.dir.parent = r; /* ".." of the root is the root */
	*root = vfs_vnode_ref(&r->vn);
	return 0;
}

struct vfs_fstype ramfs_fstype = {.name = "ramfs", .mount = ramfs_mount};
