package hf

import (
	"archive/zip"
	"fmt"
	"io"
	"path"
	"sort"

	"github.com/nlpodyssey/gopickle/pickle"
	"github.com/nlpodyssey/gopickle/types"
)

// ReadPytorchBin reads a state dict saved by torch.save in its zip format
// (torch ≥ 1.6; Hugging Face's pytorch_model.bin). The pickle is decoded
// with gopickle; storages are decoded here, with the same converters as
// safetensors, so fp16 subnormals and bf16 come out exact (gotch reads
// bf16 as fp16 bit patterns; gopickle's own fp16 table gets subnormals
// wrong).
func ReadPytorchBin(filename string) ([]*Tensor, error) {
	zr, err := zip.OpenReader(filename)
	if err != nil {
		return nil, fmt.Errorf("%s: not a torch zip archive (truncated or corrupt?): %v", filename, err)
	}
	defer zr.Close()
	records := map[string]*zip.File{}
	var pkl *zip.File
	for _, f := range zr.File {
		records[f.Name] = f
		if path.Base(f.Name) == "data.pkl" && pkl == nil {
			pkl = f
		}
	}
	if pkl == nil {
		return nil, fmt.Errorf("%s: no data.pkl in the archive (TorchScript or not a torch.save file?)", filename)
	}
	prefix := path.Dir(pkl.Name)
	r, err := pkl.Open()
	if err != nil {
		return nil, fmt.Errorf("%s: %v", filename, err)
	}
	defer r.Close()

	u := pickle.NewUnpickler(r)
	u.FindClass = findTorchClass
	u.PersistentLoad = func(pid any) (any, error) {
		t, ok := pid.(*types.Tuple)
		if !ok || t.Len() < 5 {
			return nil, fmt.Errorf("unexpected persistent id %v", pid)
		}
		kind, _ := t.Get(0).(string)
		st, ok1 := t.Get(1).(*storageType)
		key, ok2 := t.Get(2).(string)
		numel, ok3 := t.Get(4).(int)
		if kind != "storage" || !ok1 || !ok2 || !ok3 {
			return nil, fmt.Errorf("unexpected persistent id %v", pid)
		}
		return &storageRef{dtype: st.dtype, key: key, numel: numel}, nil
	}
	obj, err := u.Load()
	if err != nil {
		return nil, fmt.Errorf("%s: reading the pickle: %v", filename, err)
	}
	entries, err := stateDictEntries(obj)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", filename, err)
	}
	storages := map[string]*Tensor{} // key → whole storage, decoded once (tied weights share one)
	var out []*Tensor
	for _, e := range entries {
		tr, ok := e.value.(*tensorRef)
		if !ok {
			continue // non-tensor entries carry no weights
		}
		whole, ok := storages[tr.storage.key]
		if !ok {
			whole, err = readStorage(records, prefix, tr.storage)
			if err != nil {
				return nil, fmt.Errorf("%s: tensor %q: %v", filename, e.name, err)
			}
			storages[tr.storage.key] = whole
		}
		t, err := view(e.name, whole, tr)
		if err != nil {
			return nil, fmt.Errorf("%s: tensor %q: %v", filename, e.name, err)
		}
		out = append(out, t)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// storageType stands for torch.FloatStorage and friends in the pickle.
type storageType struct{ dtype string }

// storageRef is a persistent storage record: its data is zip entry
// <archive>/data/<key>.
type storageRef struct {
	dtype, key string
	numel      int
}

// tensorRef is the result of torch._utils._rebuild_tensor_v2.
type tensorRef struct {
	storage      *storageRef
	offset       int
	size, stride []int
}

var storageDTypes = map[string]string{
	"FloatStorage": "F32", "HalfStorage": "F16", "BFloat16Storage": "BF16", "DoubleStorage": "F64",
	"LongStorage": "I64", "IntStorage": "I32", "ShortStorage": "I16", "CharStorage": "I8",
	"ByteStorage": "U8", "BoolStorage": "BOOL",
}

func findTorchClass(module, name string) (any, error) {
	if module == "torch" {
		if dt, ok := storageDTypes[name]; ok {
			return &storageType{dtype: dt}, nil
		}
	}
	switch module + "." + name {
	case "torch._utils._rebuild_tensor_v2":
		return callable(rebuildTensor), nil
	case "torch._utils._rebuild_parameter":
		return callable(func(args ...any) (any, error) {
			if len(args) < 1 {
				return nil, fmt.Errorf("_rebuild_parameter: no data")
			}
			return args[0], nil
		}), nil
	}
	return types.NewGenericClass(module, name), nil
}

type callable func(args ...any) (any, error)

func (c callable) Call(args ...any) (any, error) { return c(args...) }

func rebuildTensor(args ...any) (any, error) {
	if len(args) < 4 {
		return nil, fmt.Errorf("_rebuild_tensor_v2: %d arguments", len(args))
	}
	st, ok1 := args[0].(*storageRef)
	off, ok2 := args[1].(int)
	size, err1 := intTuple(args[2])
	stride, err2 := intTuple(args[3])
	if !ok1 || !ok2 || err1 != nil || err2 != nil {
		return nil, fmt.Errorf("_rebuild_tensor_v2: unexpected arguments %v", args[:4])
	}
	return &tensorRef{storage: st, offset: off, size: size, stride: stride}, nil
}

func intTuple(v any) ([]int, error) {
	t, ok := v.(*types.Tuple)
	if !ok {
		return nil, fmt.Errorf("not a tuple: %v", v)
	}
	out := make([]int, t.Len())
	for i := range out {
		n, ok := t.Get(i).(int)
		if !ok {
			return nil, fmt.Errorf("not an int: %v", t.Get(i))
		}
		out[i] = n
	}
	return out, nil
}

func readStorage(records map[string]*zip.File, prefix string, s *storageRef) (*Tensor, error) {
	f, ok := records[prefix+"/data/"+s.key]
	if !ok {
		return nil, fmt.Errorf("storage record data/%s missing from the archive", s.key)
	}
	want := int64(s.numel) * int64(dtypeSize[s.dtype])
	if int64(f.UncompressedSize64) < want {
		return nil, fmt.Errorf("storage data/%s has %d bytes, want %d (truncated?)", s.key, f.UncompressedSize64, want)
	}
	r, err := f.Open()
	if err != nil {
		return nil, err
	}
	defer r.Close()
	buf := make([]byte, want)
	if _, err := io.ReadFull(r, buf); err != nil {
		return nil, fmt.Errorf("storage data/%s: %v", s.key, err)
	}
	t := &Tensor{DType: s.dtype, Shape: []int{s.numel}}
	decodeInto(t, buf)
	return t, nil
}

// view copies a (possibly strided, offset) view out of its storage into a
// contiguous tensor.
func view(name string, whole *Tensor, tr *tensorRef) (*Tensor, error) {
	if len(tr.stride) != len(tr.size) {
		return nil, fmt.Errorf("stride %v does not match size %v", tr.stride, tr.size)
	}
	n := numElements(tr.size)
	t := &Tensor{Name: name, Shape: tr.size, DType: whole.DType}
	if whole.F32 != nil {
		t.F32 = make([]float32, n)
	} else {
		t.I64 = make([]int64, n)
	}
	if n == 0 {
		return t, nil
	}
	last := tr.offset
	for i, d := range tr.size {
		last += (d - 1) * tr.stride[i]
	}
	if tr.offset < 0 || last >= whole.NumElements() {
		return nil, fmt.Errorf("view (offset %d, size %v, stride %v) exceeds its storage of %d elements", tr.offset, tr.size, tr.stride, whole.NumElements())
	}
	idx := make([]int, len(tr.size))
	for dst := 0; dst < n; dst++ {
		src := tr.offset
		for k, i := range idx {
			src += i * tr.stride[k]
		}
		if t.F32 != nil {
			t.F32[dst] = whole.F32[src]
		} else {
			t.I64[dst] = whole.I64[src]
		}
		for k := len(idx) - 1; k >= 0; k-- {
			if idx[k]++; idx[k] < tr.size[k] {
				break
			}
			idx[k] = 0
		}
	}
	return t, nil
}

type kv struct {
	name  string
	value any
}

func stateDictEntries(obj any) ([]kv, error) {
	var out []kv
	add := func(k, v any) error {
		s, ok := k.(string)
		if !ok {
			return fmt.Errorf("state dict key %v is not a string", k)
		}
		out = append(out, kv{s, v})
		return nil
	}
	switch d := obj.(type) {
	case *types.OrderedDict:
		for el := d.List.Front(); el != nil; el = el.Next() {
			e := el.Value.(*types.OrderedDictEntry)
			if err := add(e.Key, e.Value); err != nil {
				return nil, err
			}
		}
	case *types.Dict:
		for _, e := range *d {
			if err := add(e.Key, e.Value); err != nil {
				return nil, err
			}
		}
	default:
		return nil, fmt.Errorf("top-level object is %T, want a state dict", obj)
	}
	return out, nil
}
