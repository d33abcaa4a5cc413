/** Entry point of the bundle: starts the widget from the <script> tag that loaded it. */
import { boot } from "./widget.js";

const script = document.currentScript;
if (script) boot(script);
