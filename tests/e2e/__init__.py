"""Browser flows against a real `streamlit run` server (a package, like tests/)."""
