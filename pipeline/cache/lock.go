package cache

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// Owner describes the holder of a lock; it is written into the lock file
// for messages such as "waiting for pid 123 on host x since …".
type Owner struct {
	PID     int       `json:"pid"`
	Host    string    `json:"host"`
	Start   time.Time `json:"start"`
	Address string    `json:"address,omitempty"`
}

func (o Owner) String() string {
	if o.PID == 0 {
		return "another process"
	}
	s := fmt.Sprintf("pid %d on %s since %s", o.PID, o.Host, o.Start.Format(time.RFC3339))
	if o.Address != "" {
		s = o.Address + ", " + s
	}
	return s
}

// Lock is an exclusive lock on one key, held with flock(2): the kernel
// releases it when its holder dies, so a crashed run never leaves a key
// locked.
type Lock struct {
	f    *os.File
	path string
}

// TryLock takes key's lock if it is free. When it is held, it returns
// ok=false and the holder's description.
func (c *Cache) TryLock(key string, owner Owner) (l *Lock, holder Owner, ok bool, err error) {
	if !ValidKey(key) {
		return nil, Owner{}, false, fmt.Errorf("cache: invalid key %q", key)
	}
	if err := c.ensure("locks"); err != nil {
		return nil, Owner{}, false, err
	}
	return tryLockFile(c.lockPath(key), owner)
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

// Unlock releases the lock. The lock file stays (removing it would race
// with processes that have it open); gc removes unused ones.
func (l *Lock) Unlock() error {
	if l == nil || l.f == nil {
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
