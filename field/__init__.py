"""The field app: a mobile PWA for grid workers and department staff, served at /field/."""
