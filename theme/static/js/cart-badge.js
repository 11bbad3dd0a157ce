/* The cart count in the header; an add to cart loads cart.js */
(function(d){var K="vetrina-cart",s=d.currentScript,f;
function g(){try{var c=JSON.parse(localStorage.getItem(K));return c.push?c:[]}catch(e){return[]}}
function n(){var c=0;g().forEach(function(l){c+=+l.q||0});d.querySelectorAll("[data-cart-count]").forEach(function(e){e.textContent=c;e.hidden=!c})}
function x(){f||(d.head.appendChild(f=d.createElement("script")).src=s.dataset.full)}
d.addEventListener("click",function(e){var b=e.target.closest("[data-cart-add]"),a=b&&b.dataset,c=g(),l;if(!b)return;
l=c.filter(function(l){return l.s==a.sku})[0];l?l.q<99&&l.q++:c.push({s:a.sku,q:1,p:a.price,n:a.name});
try{localStorage.setItem(K,JSON.stringify(c))}catch(r){}n();d.cartAdded=b;d.cartShow&&d.cartShow(b);x()});
addEventListener("storage",n);
d.addEventListener("DOMContentLoaded",function(){d.querySelectorAll("[data-cart-add]").forEach(function(b){b.hidden=!1});n();d.querySelector("[data-cart-page]")&&x()})})(document);
