package cache

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// Owner describes the holder of a lock; it is written into the lease for
// messages such as "waiting for pid 123 on host x since …".
type Owner struct {
	PID     int       `json:"pid"`
	Host    string    `json:"host"`
	Start   time.Time `json:"start"`
	Address string    `json:"address,omitempty"`
	// Job is the cluster job running the stage for the holder (a driver
	// waiting for its Slurm job): that job may run the stage without the
	// lock, whose holder keeps it for it (Cache.DelegateLock).
	Job string `json:"job,omitempty"`
}

func (o Owner) String() string {
	if o.PID == 0 {
		return "another process"
	}
	s := fmt.Sprintf("pid %d on %s since %s", o.PID, o.Host, o.Start.Format(time.RFC3339))
	if o.Address != "" {
		s = o.Address + ", " + s
	}
	if o.Job != "" {
		s += ", for job " + o.Job
	}
	return s
}

// A key's lock is a lease: the file locks/<key>.lease, created
// exclusively (link(2) of a complete file, atomic also on NFS), naming its
// owner and an expiry that a heartbeat goroutine pushes forward every
// LeaseTTL/3 by renaming a fresh file over it. A lease whose expiry has
// passed (its owner died or lost its node), or whose owner is a dead
// process on this host, is taken over. So a cache on a network filesystem
// shared by drivers on several nodes runs each key once, without relying on
// flock, which not every network filesystem honours across nodes.
//
// What this relies on: renames and links within one directory are atomic
// (POSIX, and NFS through its server); NFS's close-to-open consistency
// shows a reader the last renamed lease (attribute caching may delay it by
// up to acregmax, a few seconds: well below LeaseTTL); clocks of the nodes
// agree within LeaseSkew (NTP). A takeover is serialised by a second
// exclusive file, locks/<key>.takeover; if a taker dies inside it, that
// file is removed once older than a minute.
//
// The holder also keeps flock on locks/<key>.lock, as before leases: on
// one machine it is released by the kernel the moment its holder dies, and
// gc probes it. Where flock is not supported it is skipped.
var (
	// LeaseTTL is how long a lease lives without a heartbeat.
	LeaseTTL = 30 * time.Second
	// LeaseSkew is the clock difference between nodes a takeover allows.
	LeaseSkew = 5 * time.Second
)

func (c *Cache) leasePath(key string) string {
	return strings.TrimSuffix(c.lockPath(key), ".lock") + ".lease"
}

// lease is the content of a lease file.
type lease struct {
	Owner
	Token   string    `json:"token"`
	Expires time.Time `json:"expires"`
	Beats   int64     `json:"beats"`
}

// Lock is a held lease on one key.
type Lock struct {
	f     *os.File // flock on the .lock file (nil where unsupported)
	path  string   // the .lock file
	lease string   // the .lease file ("" for plain flock locks)

	mu   sync.Mutex
	cur  lease
	stop chan struct{}
	done chan struct{}
}

// ThisJob is the cluster job this process runs as ("" for none). A lock
// whose holder delegated it to this job (DelegateLock: a driver waiting
// for the job) is granted to it without a lease of its own: the holder
// keeps renewing its lease while it waits.
var ThisJob string

// held maps the lease paths this process holds to their locks, for
// DelegateLock.
var held sync.Map

// TryLock takes key's lock if it is free (or its lease expired). When it
// is held, it returns ok=false and the holder's description.
func (c *Cache) TryLock(key string, owner Owner) (l *Lock, holder Owner, ok bool, err error) {
	if !ValidKey(key) {
		return nil, Owner{}, false, fmt.Errorf("cache: invalid key %q", key)
	}
	if err := c.ensure("locks"); err != nil {
		return nil, Owner{}, false, err
	}
	leasePath := c.leasePath(key)
	fl, holder, ok, err := tryLockFile(c.lockPath(key), owner)
	if errors.Is(err, unix.ENOLCK) || errors.Is(err, unix.EOPNOTSUPP) || errors.Is(err, unix.ENOSYS) {
		fl, ok, err = &Lock{path: c.lockPath(key)}, true, nil
	}
	if err != nil {
		return nil, Owner{}, false, err
	}
	if !ok {
		cur, err := readLease(leasePath)
		if err == nil && ThisJob != "" && cur.Job == ThisJob && !cur.expired() {
			// Our holder waits for us: run under its lease.
			return &Lock{path: c.lockPath(key)}, Owner{}, true, nil
		}
		if err != nil || !cur.expired() || cur.Host == Host() {
			if err == nil {
				holder = cur.Owner
			}
			return nil, holder, false, nil
		}
		// flock held across nodes by one whose lease expired (a node
		// that died with it): the lease decides.
		fl = &Lock{path: c.lockPath(key)}
	}
	cur, taken, err := takeLease(leasePath, owner)
	if err == nil && !taken && ThisJob != "" && cur.Job == ThisJob {
		fl.lease = "" // delegated: the flock (if any) is ours, the lease the holder's
		return fl, Owner{}, true, nil
	}
	if err != nil || !taken {
		fl.Unlock()
		return nil, cur.Owner, false, err
	}
	fl.lease, fl.cur = leasePath, cur
	fl.stop, fl.done = make(chan struct{}), make(chan struct{})
	held.Store(leasePath, fl)
	go fl.heartbeat()
	return fl, Owner{}, true, nil
}

// takeLease creates the lease, or takes over an expired one. It returns
// the holder's lease when the lease is live.
func takeLease(path string, owner Owner) (lease, bool, error) {
	mine := lease{Owner: owner, Token: randomSuffix(), Expires: time.Now().Add(LeaseTTL).UTC()}
	for attempt := 0; attempt < 3; attempt++ {
		err := linkLease(path, mine)
		if err == nil {
			return mine, true, nil
		}
		if !errors.Is(err, os.ErrExist) {
			return lease{}, false, err
		}
		cur, err := readLease(path)
		if errors.Is(err, os.ErrNotExist) {
			continue // released meanwhile
		}
		torn := err != nil
		if torn {
			// Unreadable: a torn write of a crashed writer. Judge it by
			// its age.
			info, serr := os.Stat(path)
			if serr != nil || time.Since(info.ModTime()) < LeaseTTL+LeaseSkew {
				return lease{}, false, nil
			}
		} else if !cur.expired() {
			return cur, false, nil
		}
		// Take over, serialised by the takeover file: only the lease
		// judged expired is removed, not one renewed or replaced since.
		tk := strings.TrimSuffix(path, ".lease") + ".takeover"
		f, err := os.OpenFile(tk, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if errors.Is(err, os.ErrExist) {
			if info, serr := os.Stat(tk); serr == nil && time.Since(info.ModTime()) > time.Minute {
				os.Remove(tk)
			}
			return cur, false, nil
		}
		if err != nil {
			return lease{}, false, err
		}
		f.Close()
		again, rerr := readLease(path)
		switch {
		case errors.Is(rerr, os.ErrNotExist):
			err = linkLease(path, mine)
		case torn && rerr != nil, !torn && rerr == nil && again.Token == cur.Token && again.Beats == cur.Beats:
			os.Remove(path)
			err = linkLease(path, mine)
		default:
			err = os.ErrExist
		}
		os.Remove(tk)
		if err == nil {
			return mine, true, nil
		}
		if !errors.Is(err, os.ErrExist) {
			return lease{}, false, err
		}
	}
	cur, _ := readLease(path)
	return cur, false, nil
}

// expired reports whether a lease may be taken over: its expiry passed
// (by more than the allowed clock skew), or its owner is a process of this
// host that no longer exists.
func (l lease) expired() bool {
	if time.Now().After(l.Expires.Add(LeaseSkew)) {
		return true
	}
	if l.Host == Host() && l.PID > 0 && l.PID != os.Getpid() {
		return errors.Is(unix.Kill(l.PID, 0), unix.ESRCH)
	}
	return false
}

// linkLease creates path with l's content if path does not exist.
func linkLease(path string, l lease) error {
	tmp, err := writeLeaseTmp(path, l)
	if err != nil {
		return err
	}
	defer os.Remove(tmp)
	return os.Link(tmp, path)
}

func writeLeaseTmp(path string, l lease) (string, error) {
	data, err := json.Marshal(l)
	if err != nil {
		return "", err
	}
	tmp := fmt.Sprintf("%s.%d.%s.tmp", path, os.Getpid(), randomSuffix())
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return "", err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(tmp)
		return "", err
	}
	return tmp, nil
}

func readLease(path string) (lease, error) {
	var l lease
	data, err := os.ReadFile(path)
	if err != nil {
		return l, err
	}
	return l, json.Unmarshal(data, &l)
}

// heartbeat renews the lease until Unlock.
func (l *Lock) heartbeat() {
	defer close(l.done)
	t := time.NewTicker(LeaseTTL / 3)
	defer t.Stop()
	for {
		select {
		case <-l.stop:
			return
		case <-t.C:
			if !l.renew() {
				return
			}
		}
	}
}

// renew pushes the expiry forward by renaming a fresh lease over it. It
// returns false when the lease is no longer this lock's (taken over after
// this process stalled past its expiry).
func (l *Lock) renew() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if cur, err := readLease(l.lease); err == nil && cur.Token != l.cur.Token {
		return false
	}
	next := l.cur
	next.Expires, next.Beats = time.Now().Add(LeaseTTL).UTC(), next.Beats+1
	tmp, err := writeLeaseTmp(l.lease, next)
	if err != nil {
		return true // try again at the next beat
	}
	if err := os.Rename(tmp, l.lease); err != nil {
		os.Remove(tmp)
		return true
	}
	l.cur = next
	return true
}

// DelegateLock notes in the lease of key, held by this process, the job
// that runs the stage for it: that job (a Slurm job adopted by a driver)
// may then run the stage without taking the lock itself.
func (c *Cache) DelegateLock(key, job string) {
	v, ok := held.Load(c.leasePath(key))
	if !ok {
		return
	}
	l := v.(*Lock)
	l.mu.Lock()
	l.cur.Job = job
	l.mu.Unlock()
	l.renew()
}

// Holder reads the owner of key's lease (ok=false when none is there).
func (c *Cache) Holder(key string) (Owner, bool) {
	cur, err := readLease(c.leasePath(key))
	if err != nil || cur.expired() {
		return Owner{}, false
	}
	return cur.Owner, true
}

func tryLockFile(path string, owner Owner) (*Lock, Owner, bool, error) {
	for {
		f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
		if err != nil {
			return nil, Owner{}, false, err
		}
		err = unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
		if errors.Is(err, unix.EWOULDBLOCK) {
			holder := readOwner(f)
			f.Close()
			return nil, holder, false, nil
		}
		if err != nil {
			f.Close()
			return nil, Owner{}, false, err
		}
		// gc may have removed the lock file between our open and flock;
		// then we hold a lock on an orphan inode and must start again.
		if !sameFile(f, path) {
			f.Close()
			continue
		}
		if data, err := json.Marshal(owner); err == nil {
			f.Truncate(0)
			f.WriteAt(data, 0)
		}
		return &Lock{f: f, path: path}, Owner{}, true, nil
	}
}

func sameFile(f *os.File, path string) bool {
	a, err := f.Stat()
	if err != nil {
		return false
	}
	b, err := os.Stat(path)
	if err != nil {
		return false
	}
	return os.SameFile(a, b)
}

func readOwner(f *os.File) Owner {
	var o Owner
	buf := make([]byte, 4096)
	n, _ := f.ReadAt(buf, 0)
	json.Unmarshal(buf[:n], &o)
	return o
}

// Lock waits for key's lock until ctx is done. onWait, if not nil, is
// called once with the holder when the lock is busy.
func (c *Cache) Lock(ctx context.Context, key string, owner Owner, onWait func(holder Owner)) (*Lock, error) {
	delay := 20 * time.Millisecond
	waited := false
	for {
		l, holder, ok, err := c.TryLock(key, owner)
		if err != nil || ok {
			return l, err
		}
		if !waited && onWait != nil {
			onWait(holder)
		}
		waited = true
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		case <-t.C:
		}
		if delay < 500*time.Millisecond {
			delay *= 2
		}
	}
}

// Unlock releases the lock: the heartbeat stops and the lease is removed
// if it is still this lock's. The .lock file stays (removing it would
// race with processes that have it open); gc removes unused ones.
func (l *Lock) Unlock() error {
	if l == nil {
		return nil
	}
	if l.stop != nil {
		close(l.stop)
		<-l.done
		l.stop = nil
		held.Delete(l.lease)
		if cur, err := readLease(l.lease); err == nil && cur.Token == l.cur.Token {
			os.Remove(l.lease)
		}
	}
	if l.f == nil {
		return nil
	}
	err := l.f.Close() // closing releases the flock
	l.f = nil
	return err
}

// remove deletes the lock file while the lock is held, then releases it.
func (l *Lock) remove() error {
	err := os.Remove(l.path)
	l.Unlock()
	return err
}

// Host is the host name written into locks and manifests.
func Host() string {
	h, err := os.Hostname()
	if err != nil {
		return "unknown"
	}
	return h
}
