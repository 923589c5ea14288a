# want: 5:11 Cannot fetch input; hf:org/tiny@../../../escaped; invalid revision "../../../escaped": ".." is not allowed
# want: 9:11 Cannot fetch input; hf:../../tiny: invalid model repository "../../tiny"
# A revision is joined into the Hugging Face cache's paths: one that could leave it is refused before anything is fetched.
test_list "rev" {
  model = "hf:org/tiny@../../../escaped"
}

test_list "repo" {
  model = "hf:../../tiny"
}
